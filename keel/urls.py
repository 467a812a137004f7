from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("keel.api.urls")),
    path("", include("keel.web.urls")),
]

handler500 = "keel.web.errors.server_error"
