#!/usr/bin/env node
import { CGIHandler } from "wsgiref/handlers";
import { app } from "../../build/examples/cgi/app.js";

await new CGIHandler().run(app);
