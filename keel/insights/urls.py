"""Insights pages (namespace `insights`); the dashboard itself is `web:dashboard`, at /."""

from django.urls import path

from keel.insights import views

app_name = "insights"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("targets/", views.kpitarget_set, name="kpitarget_set"),
]
