"""The benchmark's WSGI application for the Python servers (wsgiref, gunicorn,
waitress): the same routes and bytes as bench/servers/payloads.ts and app.ts.

GET / hello world, GET /1m 1 MiB, GET /file the file named by
WSGIREF_BENCH_FILE (through wsgi.file_wrapper, so gunicorn can use sendfile),
POST /upload reads the whole body and answers its length.
"""

import os

HELLO = b"Hello world!\n"
ONE_MIB = b"a" * (1024 * 1024)


def app(environ, start_response):
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO", "")
    if method == "GET" and path == "/":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(HELLO)))])
        return [HELLO]
    if method == "GET" and path == "/1m":
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(ONE_MIB)))])
        return [ONE_MIB]
    if method == "GET" and path == "/file":
        name = os.environ["WSGIREF_BENCH_FILE"]
        f = open(name, "rb")
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(os.fstat(f.fileno()).st_size))])
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None:
            return wrapper(f, 1024 * 1024)
        return iter(lambda: f.read(1024 * 1024), b"")
    if method == "POST" and path == "/upload":
        stream = environ["wsgi.input"]
        length = 0
        while True:
            chunk = stream.read(1024 * 1024)
            if not chunk:
                break
            length += len(chunk)
        body = str(length).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    start_response("404 Not Found", [("Content-Length", "0")])
    return []
