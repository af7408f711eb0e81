#!/usr/bin/env node
// The `wsgiref` command: runs the compiled CLI (`npm run build` emits it).
import "../build/src/cli.js";
