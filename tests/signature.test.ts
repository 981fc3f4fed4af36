import { describe, expect, it } from 'vitest';
import { isValidTwilioSignature, signForm, slashVariants } from '../src/twilio/signature.js';

// The worked example of Twilio's webhook-security page (../shared/seeds/002).
const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675310', Digits: '1234', From: '+14158675310', To: '+18005551212' };
const token = '12345';
const published = 'GvWf1cFY/Q7PnoempGyD5oXAezc=';

describe('X-Twilio-Signature guard', () => {
  it('accepts the published example and computes the same signature', () => {
    expect(signForm(token, url, params)).toBe(published);
    expect(isValidTwilioSignature(token, published, { kind: 'form', urls: [url], params })).toBe(true);
  });

  it('rejects forged variants: another value, an extra parameter, another URL, another token, no signature', () => {
    expect(isValidTwilioSignature(token, published, { kind: 'form', urls: [url], params: { ...params, Digits: '9999' } })).toBe(false);
    expect(isValidTwilioSignature(token, published, { kind: 'form', urls: [url], params: { ...params, Extra: 'x' } })).toBe(false);
    expect(isValidTwilioSignature(token, published, { kind: 'form', urls: ['https://evil.example/myapp.php?foo=1&bar=2'], params })).toBe(false);
    expect(isValidTwilioSignature('54321', published, { kind: 'form', urls: [url], params })).toBe(false);
    expect(isValidTwilioSignature(token, undefined, { kind: 'form', urls: [url], params })).toBe(false);
    expect(isValidTwilioSignature(token, published.replace('G', 'H'), { kind: 'form', urls: [url], params })).toBe(false);
  });

  it('tolerates the trailing-slash and explicit-port pitfalls', () => {
    const signed = signForm(token, 'https://example.com/encrypt', params);
    expect(isValidTwilioSignature(token, signed, { kind: 'form', urls: ['https://example.com/encrypt/'], params })).toBe(true);
    expect(isValidTwilioSignature(token, signed, { kind: 'form', urls: ['https://example.com:443/encrypt'], params })).toBe(true);
    expect(slashVariants('https://a.example/x?q=1')).toEqual(['https://a.example/x?q=1', 'https://a.example/x/?q=1']);
  });

  it('treats a candidate URL the validator cannot parse as not signed, and still tries the others', () => {
    const signed = signForm(token, 'https://example.com/encrypt', params);
    for (const bad of ['http://[/encrypt', 'https://bad host/encrypt', 'http://a:99999/encrypt']) {
      expect(() => isValidTwilioSignature(token, signed, { kind: 'form', urls: [bad], params })).not.toThrow();
      expect(isValidTwilioSignature(token, signed, { kind: 'form', urls: [bad], params })).toBe(false);
      expect(isValidTwilioSignature(token, signed, { kind: 'form', urls: [bad, 'https://example.com/encrypt'], params })).toBe(true);
    }
  });

  it('validates JSON bodies through bodySHA256 (the published JSON example, signed here with token 12345)', () => {
    const jsonUrl = 'https://example.com/myapp?bodySHA256=5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9';
    const body = '{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}';
    // The page's own signature was made with an auth token it does not give; its body hash is checkable.
    const sig = signForm(token, jsonUrl, {});
    expect(isValidTwilioSignature(token, sig, { kind: 'json', urls: [jsonUrl], rawBody: body })).toBe(true);
    expect(isValidTwilioSignature(token, sig, { kind: 'json', urls: [jsonUrl], rawBody: body.replace('+1', '+9') })).toBe(false);
  });

  it('validates GET requests over the full URL', () => {
    const getUrl = 'https://example.com/myapp?CallSid=CA1&Digits=1234';
    const sig = signForm(token, getUrl, {});
    expect(isValidTwilioSignature(token, sig, { kind: 'get', urls: [getUrl] })).toBe(true);
    expect(isValidTwilioSignature(token, sig, { kind: 'get', urls: [getUrl.replace('1234', '4321')] })).toBe(false);
  });
});
