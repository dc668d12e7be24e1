#!/usr/bin/env node
import { runServer } from '@conv/server';
import { startProxy } from './app';
import { readConfig } from './config';

// The bin: wiring only.
await runServer({ name: 'proxy', parse: readConfig, start: startProxy });
