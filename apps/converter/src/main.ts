#!/usr/bin/env node
import { runServer } from '@conv/server';
import { startConverter } from './app';
import { readConfig } from './config';

// The bin: wiring only.
await runServer({ name: 'converter', parse: readConfig, start: (config, log) => startConverter(config, log) });
