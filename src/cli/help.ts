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

/** Help text by command; `""` is the top level. */
export const HELP: Record<string, string> = {
  "": `Usage: wsgiref <command> [options]

Serve WSGI applications (PEP 3333) with Node.js.

Commands:
  serve [MODULE[:EXPORT]]  serve an application over HTTP (the demo app without MODULE)
  static [DIR]             serve the files of a directory over HTTP
  cgi MODULE[:EXPORT]      run an application once as a CGI script

Run 'wsgiref <command> --help' for the options of a command.
Set NODE_DEBUG=wsgiref to see the stack of an error.`,

  serve: `Usage: wsgiref serve [MODULE[:EXPORT]] [options]

Serve the application exported by MODULE (a .js or .ts file; TypeScript needs no
build step) as EXPORT, or 'app', or 'default'. Without MODULE, serve demoApp.
Prints 'Serving HTTP on HOST port PORT ...' once listening; SIGINT (Ctrl-C) or
SIGTERM stops accepting, lets in-flight requests finish, and exits 0.

Options:
  --host H                address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --port P                port to listen on; 0 picks a free one (default 8000)
  --workers N             run N worker processes sharing the port; a worker that
                          dies is replaced (default: one process, no workers)
  --validate              wrap the application in validator() (wsgiref/validate)
  --quiet                 no access log
  -h, --help              show this help

${SERVER_OPTIONS}`,

  static: `Usage: wsgiref static [DIR] [options]

Serve the files under DIR (default: the current directory): MIME types guessed
from file names, index.html for directories, 404 for anything else. No request
reaches outside DIR, through '..' or through a symbolic link.

Options:
  --host H                address to listen on (default 127.0.0.1)
  --port P                port to listen on; 0 picks a free one (default 8000)
  --quiet                 no access log
  -h, --help              show this help`,

  cgi: `Usage: wsgiref cgi MODULE[:EXPORT] [options]

Run the application once under CGIHandler: the request comes from the CGI
environment variables and standard input, the response goes to standard output.
For the script a CGI host (Apache, lighttpd, IIS) executes.

Options:
  --validate              wrap the application in validator() (wsgiref/validate)
  -h, --help              show this help`,
};
