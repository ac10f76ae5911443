// Preload for the conformance CLI on Node 20: `node --import ./conformance/node20/register.mjs <cli>`.
//
// @modelcontextprotocol/conformance is built for Node >= 22: its bundle does
// `import { globSync, … } from "fs"`, and Node 20's `fs` has no `globSync`, so the bundle
// fails to link (SyntaxError: … does not provide an export named 'globSync'). A named ESM
// import is resolved before any code runs, and a builtin's export list cannot be extended
// at run time, so the only clean fix short of editing node_modules is to give that one
// package a different `fs` module: a resolve hook (module.register, Node >= 20.6) maps the
// package's `fs` / `node:fs` imports to ./fs-with-glob-sync.mjs, which re-exports node:fs
// and adds a small globSync. Nothing else is redirected and node_modules stays untouched.
//
// On a Node that has fs.globSync this file does nothing.
import fs from 'node:fs';
import { register } from 'node:module';

if (typeof fs.globSync !== 'function') register('./hooks.mjs', import.meta.url);
