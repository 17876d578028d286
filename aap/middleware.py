class PermissionsPolicyMiddleware:
    """Turn off browser features the platform never uses."""

    POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
