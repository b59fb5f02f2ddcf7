#!/usr/bin/env node
// Runs the TypeScript CLI straight from the repo (tsx compiles on load), so `npx astro-identity-sync` works after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
