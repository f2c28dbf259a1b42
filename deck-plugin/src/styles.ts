/** Puts the plugin's CSS into <head> once, when Deck evaluates the module. */
import css from './styles.css';

export const STYLE_ELEMENT_ID = 'istio-traffic-shift-styles';

export function injectStyles(doc: Document | undefined = typeof document === 'undefined' ? undefined : document): void {
  if (!doc || doc.getElementById(STYLE_ELEMENT_ID)) return;
  const style = doc.createElement('style');
  style.id = STYLE_ELEMENT_ID;
  style.textContent = typeof css === 'string' ? css : '';
  doc.head.appendChild(style);
}
