/** Unit tests of the storable-text rules shared by every driver. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toStorableText, unstorableTextReason } from '../src/core/storable.js';

describe('storable text', () => {
  it('finds NUL characters and unpaired surrogates, and accepts pairs', () => {
    assert.equal(unstorableTextReason('plain ascii'), undefined);
    assert.equal(unstorableTextReason('emoji 😀 ok'), undefined);
    assert.match(unstorableTextReason('a\u0000b') ?? '', /NUL character .* index 1/);
    assert.match(unstorableTextReason('a\ud83d') ?? '', /unpaired .* index 1/);
    assert.match(unstorableTextReason('\ude00x') ?? '', /unpaired .* index 0/);
  });

  it('replaces what cannot be stored and cuts on a character boundary', () => {
    assert.equal(toStorableText('a\u0000b'), 'a\u2400b');
    assert.equal(toStorableText('x\ud83dy\ude00'), 'x\ufffdy\ufffd');
    const cut = toStorableText(`a${'😀'.repeat(3000)}`, 4096);
    assert.equal(unstorableTextReason(cut), undefined);
    assert.ok(cut.startsWith(`a${'😀'.repeat(2047)}…`), cut.slice(0, 20));
    assert.ok(cut.endsWith('… [1906 more characters cut]'), cut.slice(-40));
    assert.equal(toStorableText('short', 4096), 'short');
  });
});
