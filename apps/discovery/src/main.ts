#!/usr/bin/env node
console.log('not implemented yet');
