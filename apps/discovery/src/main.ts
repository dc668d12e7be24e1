#!/usr/bin/env node
import { runServer } from '@conv/server';
import { startDiscovery } from './app';
import { readConfig } from './config';

// The bin: wiring only.
await runServer({ name: 'discovery', parse: readConfig, start: startDiscovery });
