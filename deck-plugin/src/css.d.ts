/** webpack bundles CSS as its text (asset/source); jest maps it to identity-obj-proxy. */
declare module '*.css' {
  const text: string;
  export default text;
}
