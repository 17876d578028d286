"""A minimal browser on http.client: cookies, forms with their CSRF token, file uploads
streamed from disk in a multipart body. One connection per request, as gunicorn's sync
workers close it after each answer anyway."""

import http.client
import re
import time
import uuid
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

HEADERS = {"Accept": "text/html", "User-Agent": "aap-bench"}
CHUNK = 256 * 1024
_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    location: str
    body: bytes
    began: float  # perf_counter when the request started
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def csrf_token(self) -> str:
        found = _TOKEN.search(self.body)
        if found is None:
            raise LookupError("pas de jeton CSRF dans la page")
        return found.group(1).decode()


class Browser:
    def __init__(self, host: str, port: int, *, timeout: float = 300):
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies: dict[str, str] = {}
        # Sent as X-Bench-Step: gunicorn's access log then tells each step's time in the
        # worker from its time in the queue (``bench.server.service_times``).
        self.step = ""

    def request(self, method: str, path: str, *, body=None, headers=None) -> Response:
        headers = {**HEADERS, **(headers or {})}
        if self.step:
            headers["X-Bench-Step"] = self.step
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        began = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        seconds = time.perf_counter() - began
        self._keep(response.headers.get_all("Set-Cookie") or [])
        return Response(
            response.status, response.getheader("Location", ""), content, began, seconds
        )

    def _keep(self, headers: list[str]) -> None:
        for header in headers:
            cookie = SimpleCookie()
            try:
                cookie.load(header)
            except CookieError:
                continue
            for name, morsel in cookie.items():
                # Django deletes a cookie with max-age=0 (messages once shown, for one).
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.coded_value

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, fields: list[tuple[str, str]]) -> Response:
        return self.request(
            "POST",
            path,
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def upload(
        self, path: str, fields: list[tuple[str, str]], *, field: str, name: str, file: Path
    ) -> Response:
        """POST ``file`` as ``multipart/form-data``, read from disk chunk by chunk."""
        boundary = f"aap-bench-{uuid.uuid4().hex}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            for key, value in fields
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = file.stat().st_size

        def body():
            yield head
            with open(file, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk
            yield tail

        return self.request(
            "POST",
            path,
            body=body(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + size + len(tail)),
            },
        )
