import { fileURLToPath } from 'node:url';

/** The repository's git-ignored `data/` folder (this file runs from apps/conv/dist/main.js). */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../data', import.meta.url));
