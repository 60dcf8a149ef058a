/**
 * Reloads the `--config` file when it changes, without a restart. A ConfigMap mounted as a
 * volume changes by an atomic symlink swap (`..data`), so the file's directory is watched, events
 * are debounced, and the file is read again; the content decides (an event without a change
 * does nothing). A file that does not parse or validate is refused: the last good config stays in
 * use, and `onInvalid` is told why (the caller logs it, sets the metric, emits an Event).
 */
import { type FSWatcher, readFileSync, watch } from 'node:fs'
import { dirname } from 'node:path'
import { type Config, parseConfig } from './config.js'

export interface ConfigReloaderOptions {
  /** the config now in use */
  onChange: (config: Config) => void
  /** a changed file that is refused: the reason, ready to log */
  onInvalid: (reason: string) => void
  /** ms to wait for a burst of file events to end (default 200) */
  debounceMs?: number
}

export class ConfigReloader {
  private watcher: FSWatcher | undefined
  private timer: NodeJS.Timeout | undefined
  private text: string

  /** @param initialText the file's content when the config in use was read */
  constructor(
    private readonly path: string,
    initialText: string,
    private readonly o: ConfigReloaderOptions,
  ) {
    this.text = initialText
  }

  start(): void {
    this.watcher = watch(dirname(this.path), () => {
      clearTimeout(this.timer)
      this.timer = setTimeout(() => this.reload(), this.o.debounceMs ?? 200)
      this.timer.unref()
    })
    this.watcher.on('error', (e) => this.o.onInvalid(`cannot watch ${dirname(this.path)}: ${e.message}`))
  }

  /**
   * Reads the file now. @returns `changed` (a new config is in use), `same` (nothing changed),
   * or `refused` (unreadable or invalid: the last good config stays)
   */
  reload(): 'changed' | 'same' | 'refused' {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch (e) {
      // between the two renames of a ConfigMap update the file may be missing for a moment
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'same'
      this.o.onInvalid(`${this.path}: ${(e as Error).message}`)
      return 'refused'
    }
    if (text === this.text) return 'same'
    let config: Config
    try {
      config = parseConfig(text, this.path)
    } catch (e) {
      this.text = text
      this.o.onInvalid((e as Error).message)
      return 'refused'
    }
    this.text = text
    this.o.onChange(config)
    return 'changed'
  }

  stop(): void {
    clearTimeout(this.timer)
    this.watcher?.close()
  }
}
