"""The core's verbs; each module holds one concept's services."""
