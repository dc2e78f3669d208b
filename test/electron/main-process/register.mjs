// `node --import ./register.mjs …`: every import of 'electron' gets the stub beside this file.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
