#!/usr/bin/env node
// The `tagger` command: runs the TypeScript entry point with Node's built-in type stripping (Node ≥ 22.18).
import '../node/main.ts';
