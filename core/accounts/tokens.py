from django.contrib.auth.tokens import PasswordResetTokenGenerator


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """A link that proves the mailbox, bound to the address, valid PASSWORD_RESET_TIMEOUT.

    It does not depend on the verification itself: following it again is harmless and
    still leads to the login page, while a forged token is refused for every account.
    """

    key_salt = "core.accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.email}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()
