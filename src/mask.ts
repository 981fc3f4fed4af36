// Phone numbers are never shown whole: wherever a tool or a Function prints
// one, it keeps its last 4 digits. A leaf module, so a Function can mask
// without bundling a phone-number library.

/** "…1234": the last 4 digits of a number, all that is ever shown. */
export function maskNumber(number: string): string {
  const digits = number.replace(/\D/g, '');
  return `…${digits.slice(-4)}`;
}

/** Text (a Twilio error message) with every phone-number-like run of digits masked. */
export function maskNumbersIn(text: string): string {
  return text.replace(/(?<![A-Za-z0-9])\+?\d[\d ().-]{5,}\d(?![A-Za-z0-9])/g, (m) => maskNumber(m));
}
