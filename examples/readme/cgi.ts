#!/usr/bin/env node
/**
 * The README's `wsgiref/handlers` example: a CGI script running the first app
 * once under `CGIHandler`, as a web server starts it for each request.
 *
 * Run: REQUEST_METHOD=GET SERVER_NAME=x SERVER_PORT=80 SERVER_PROTOCOL=HTTP/1.1 \
 *        PATH_INFO=/cgi node build/examples/readme/cgi.js </dev/null
 */
import { CGIHandler } from "wsgiref/handlers";
import { app } from "./hello.js";

await new CGIHandler().run(app);
