"""Start the benchmark app under Python's wsgiref or waitress on 127.0.0.1, a
free port, and print "listening 127.0.0.1:PORT" once bound.

Usage: python3 python_server.py wsgiref|waitress
(gunicorn is started as `python3 -m gunicorn wsgi_app:app`, see bench/lib/servers.ts.)
"""

import sys

from wsgi_app import app


def serve_wsgiref():
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):
            pass

    class Server(WSGIServer):
        # socketserver's default backlog of 5 makes wrk's 50 connections wait on
        # SYN retries; a normal backlog measures the server, not the queue.
        request_queue_size = 128

    httpd = make_server("127.0.0.1", 0, app, Server, QuietHandler)
    print(f"listening 127.0.0.1:{httpd.server_port}", flush=True)
    httpd.serve_forever()


def serve_waitress():
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0)
    print(f"listening 127.0.0.1:{server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    {"wsgiref": serve_wsgiref, "waitress": serve_waitress}[sys.argv[1]]()
