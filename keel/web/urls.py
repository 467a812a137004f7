"""All web pages: the web's own (namespace `web`) and each app's url module (its namespace)."""

from django.urls import include, path

from keel.insights import views as insights_views
from keel.web import views

web_patterns = (
    [
        path("", insights_views.home, name="dashboard"),
        path("login/", views.LoginView.as_view(), name="login"),
        path("logout/", views.LogoutView.as_view(), name="logout"),
        path("password/", views.PasswordChangeView.as_view(), name="password_change"),
        path("password/done/", views.auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
        path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
        path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
        path(
            "password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"
        ),
        path(
            "password/reset/done/", views.PasswordResetCompleteView.as_view(),
            name="password_reset_complete",
        ),
        path("switch-company/", views.company_switch, name="company_switch"),
        path("me/tokens/", views.apitoken_list, name="apitoken_list"),
        path("me/tokens/<int:pk>/revoke/", views.apitoken_revoke, name="apitoken_revoke"),
        path("search/parties/", views.party_search, name="party_search"),
    ],
    "web",
)

urlpatterns = [
    path("", include(web_patterns)),
    path("", include("keel.core.urls")),
    path("tasks/", include("keel.inbox.urls")),
    path("insights/", include("keel.insights.urls")),
    path("ledger/", include("keel.ledger.urls")),
]
