from __future__ import annotations

from django.contrib.auth import views as auth_views

from commonfactors_web.accounts.forms import ThrottledLoginForm


class LoginView(auth_views.LoginView):
    form_class = ThrottledLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
