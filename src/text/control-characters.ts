// C0 controls, DEL and C1 controls: bytes a terminal or a log reader would act on. Identity fields from webhooks
// and git remote URLs refuse them; the CLI escapes them in what it prints.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text);
}
