/**
 * Worker thread of `loadObjectsInParallel`: parses the files in `workerData` (string[]) and
 * posts back one LoadResult per file, in the same order.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { readAndParse } from './load.js'

parentPort!.postMessage((workerData as string[]).map(readAndParse))
