/* global window */
// Runs before @spinnaker/core is imported: the globals Deck's index.html would provide.
import jQuery from 'jquery';

window.$ = window.jQuery = jQuery; // bootstrap's JavaScript (imported by core) needs the global
window.spinnakerSettings = { defaultTimeZone: 'UTC', feature: {} }; // core reads this once, at import
