"""Insights' record pages (the dashboard entry is the web's own)."""

from keel.web.links import register_record_url

register_record_url("insights.kpitarget", "web:dashboard", with_id=False)
