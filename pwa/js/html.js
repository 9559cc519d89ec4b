// htm bound to preact's h(): JSX-like templates with no build step and no eval.
import { h } from '../vendor/preact.module.js';
import htm from '../vendor/htm.module.js';

export const html = htm.bind(h);
