#!/usr/bin/env node
/** The `routeguard` executable: `main` (src/cli/main.ts) on this process's arguments and streams. */
import { main } from './cli/main.js'
import { processIo } from './cli/io.js'

process.exitCode = await main(process.argv.slice(2), processIo())
