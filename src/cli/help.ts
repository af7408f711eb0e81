/**
 * The `--help` texts of the `wsgiref` command and its subcommands.
 */

const SERVER_OPTIONS = `Limits (sizes in bytes, times in milliseconds):
  --max-body-size N       largest request body; past it 413 (default 1073741824)
  --spool-threshold N     bodies above it are spooled to a temporary file (default 1048576)
  --max-header-size N     largest request head; past it 414 or 431 (default 65536)
  --max-headers N         most request header fields; past it 431 (default 100)
  --headers-timeout MS    time to receive the headers; past it 408 (default 20000)
  --request-timeout MS    time to receive the whole request; past it 408 (default 300000)
  --body-timeout MS       time a request body may send nothing; past it 408 (default 30000)
  --send-timeout MS       time a client may take nothing of a response; past it the
                          connection is closed (default 60000)
  --keep-alive-timeout MS an idle kept-alive connection is closed after it (default 5000)
Timeouts of 0 are off.`;

const DEPLOY_OPTIONS = `Deployment:
  --bind unix:PATH        listen on a Unix socket instead (a stale socket file is
                          removed); --bind HOST:PORT is --host and --port in one
  --root-path PREFIX      mount the application at PREFIX: SCRIPT_NAME is PREFIX,
                          and a path starting with it loses it from PATH_INFO
  --proxy-headers         trust X-Forwarded-For, -Proto, -Host, -Port and -Prefix
                          (one proxy deep) from the peers of --forwarded-allow-ips
  --forwarded-allow-ips LIST
                          comma-separated addresses or networks of the proxies,
                          '*' for any (default 127.0.0.1,::1)
  --log-format FORMAT     the access log: text (Python's format, the default) or
                          json (one JSON object per line)

HTTPS and HTTP/2:
  --certfile FILE         serve HTTPS with this PEM certificate (chain) ...
  --keyfile FILE          ... and this PEM private key
  --http2                 offer HTTP/2 too: over HTTPS by ALPN (h2 beside
                          http/1.1), in clear text to clients that open with the
                          HTTP/2 preface (h2c)

Environment:
  HOST, PORT              defaults for --host and --port, as platforms set them`;

const WORKER_OPTIONS = `With --workers (times in milliseconds; 0 turns a check off):
  --max-requests N        a worker retires after N requests: a new one is started,
                          then it finishes what it has and exits (default 0, never)
  --max-requests-jitter N add 0 to N at random to each worker's --max-requests
  --max-worker-memory B   a worker retires once its resident set passes B bytes
                          (default 0, never)
  --worker-timeout MS     a worker whose event loop is blocked this long is killed
                          and replaced (default 30000)
  --graceful-timeout MS   a worker told to stop (retiring, or SIGTERM) and still
                          finishing requests after MS is killed (default 30000)`;

/** Help text by command; `""` is the top level. */
export const HELP: Record<string, string> = {
  "": `Usage: wsgiref <command> [options]

Serve WSGI applications (PEP 3333) with Node.js.

Commands:
  serve [MODULE[:EXPORT]]  serve an application over HTTP (the demo app without MODULE)
  static [DIR]             serve the files of a directory over HTTP
  cgi MODULE[:EXPORT]      run an application once as a CGI script

Options:
  -V, --version            show the version and exit

Run 'wsgiref <command> --help' for the options of a command.
Set NODE_DEBUG=wsgiref to see the stack of an error.`,

  serve: `Usage: wsgiref serve [MODULE[:EXPORT]] [options]

Serve the application exported by MODULE (a .js or .ts file; TypeScript needs no
build step) as EXPORT, or 'app', or 'default'. Without MODULE, serve demoApp.
Prints 'Serving HTTP on HOST port PORT (http://HOST:PORT/) ...' once listening;
SIGINT (Ctrl-C) or SIGTERM stops accepting, lets in-flight requests finish, and
exits 0 (a second signal exits at once).
An error of the application outside a request (a promise rejection no one
handles, an exception thrown from a timer) is logged with its stack, and serving
goes on.

Options:
  --host H                address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --port P                port to listen on; 0 picks a free one (default 8000)
  --workers N             run N worker processes sharing the port; a worker that
                          dies is replaced, at once or, when replacements keep
                          dying, after 0.1 s doubling to 2 s (default: one
                          process, no workers)
  --validate              wrap the application in validator() (wsgiref/validate)
  --reload                restart when a source file under MODULE's directory
                          changes (for development; not with --workers)
  --quiet                 no access log
  -h, --help              show this help

${DEPLOY_OPTIONS}

${SERVER_OPTIONS}

${WORKER_OPTIONS}`,

  static: `Usage: wsgiref static [DIR] [options]

Serve the files under DIR (default: the current directory): MIME types guessed
from file names, index.html for directories, 404 for anything else (and for
dotfiles). Conditional requests (If-Modified-Since, If-None-Match: 304) and
single byte ranges (Range: 206, or 416) are answered. No request reaches
outside DIR, through '..' or through a symbolic link.

Options:
  --host H                address to listen on (default 127.0.0.1)
  --port P                port to listen on; 0 picks a free one (default 8000)
  --quiet                 no access log
  -h, --help              show this help

${DEPLOY_OPTIONS}`,

  cgi: `Usage: wsgiref cgi MODULE[:EXPORT] [options]

Run the application once under CGIHandler: the request comes from the CGI
environment variables and standard input, the response goes to standard output.
For the script a CGI host (Apache, lighttpd, IIS) executes.

Options:
  --validate              wrap the application in validator() (wsgiref/validate)
  -h, --help              show this help`,
};
