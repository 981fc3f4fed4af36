;; GHASH and the tag check of AES-GCM decryption, in constant time: no memory
;; access and no branch depends on secret data. The field multiplication is
;; BearSSL's ghash_ctmul64 (Thomas Pornin, MIT licence): carry-less 64x64
;; products from ordinary integer multiplies on operands whose bits are spaced
;; four apart (the carries land in the holes and are masked off), Karatsuba for
;; 128 bits, the upper halves by multiplying bit-reversed operands, then the
;; reduction modulo x^128 + x^7 + x^2 + x + 1 by shifts and xors.
;;
;; Memory layout (the caller's, src/crypto/gcm-fast.ts): [0, 16) H for set_h,
;; [16, 32) scratch for the tag, [32, 48) the zero-padded last block, the cells
;; from 64 on. AES itself stays in OpenSSL: the caller supplies the keystream.
(module
  (memory (export "memory") 2)
  (global $h0 (mut i64) (i64.const 0))
  (global $h1 (mut i64) (i64.const 0))
  (global $h2 (mut i64) (i64.const 0))
  (global $h0r (mut i64) (i64.const 0))
  (global $h1r (mut i64) (i64.const 0))
  (global $h2r (mut i64) (i64.const 0))
  (global $y0 (mut i64) (i64.const 0))
  (global $y1 (mut i64) (i64.const 0))

  ;; Carry-less product of x and y, low 64 bits.
  (func $bmul64 (param $x i64) (param $y i64) (result i64)
    (local $x0 i64) (local $x1 i64) (local $x2 i64) (local $x3 i64)
    (local $y0 i64) (local $y1 i64) (local $y2 i64) (local $y3 i64)
    (local.set $x0 (i64.and (local.get $x) (i64.const 0x1111111111111111)))
    (local.set $x1 (i64.and (local.get $x) (i64.const 0x2222222222222222)))
    (local.set $x2 (i64.and (local.get $x) (i64.const 0x4444444444444444)))
    (local.set $x3 (i64.and (local.get $x) (i64.const 0x8888888888888888)))
    (local.set $y0 (i64.and (local.get $y) (i64.const 0x1111111111111111)))
    (local.set $y1 (i64.and (local.get $y) (i64.const 0x2222222222222222)))
    (local.set $y2 (i64.and (local.get $y) (i64.const 0x4444444444444444)))
    (local.set $y3 (i64.and (local.get $y) (i64.const 0x8888888888888888)))
    (i64.or
      (i64.or
        (i64.and
          (i64.xor
            (i64.xor (i64.mul (local.get $x0) (local.get $y0)) (i64.mul (local.get $x1) (local.get $y3)))
            (i64.xor (i64.mul (local.get $x2) (local.get $y2)) (i64.mul (local.get $x3) (local.get $y1))))
          (i64.const 0x1111111111111111))
        (i64.and
          (i64.xor
            (i64.xor (i64.mul (local.get $x0) (local.get $y1)) (i64.mul (local.get $x1) (local.get $y0)))
            (i64.xor (i64.mul (local.get $x2) (local.get $y3)) (i64.mul (local.get $x3) (local.get $y2))))
          (i64.const 0x2222222222222222)))
      (i64.or
        (i64.and
          (i64.xor
            (i64.xor (i64.mul (local.get $x0) (local.get $y2)) (i64.mul (local.get $x1) (local.get $y1)))
            (i64.xor (i64.mul (local.get $x2) (local.get $y0)) (i64.mul (local.get $x3) (local.get $y3))))
          (i64.const 0x4444444444444444))
        (i64.and
          (i64.xor
            (i64.xor (i64.mul (local.get $x0) (local.get $y3)) (i64.mul (local.get $x1) (local.get $y2)))
            (i64.xor (i64.mul (local.get $x2) (local.get $y1)) (i64.mul (local.get $x3) (local.get $y0))))
          (i64.const 0x8888888888888888)))))

  ;; Bit reversal of a 64-bit word.
  (func $rev64 (param $x i64) (result i64)
    (local.set $x (i64.or
      (i64.shl (i64.and (local.get $x) (i64.const 0x5555555555555555)) (i64.const 1))
      (i64.and (i64.shr_u (local.get $x) (i64.const 1)) (i64.const 0x5555555555555555))))
    (local.set $x (i64.or
      (i64.shl (i64.and (local.get $x) (i64.const 0x3333333333333333)) (i64.const 2))
      (i64.and (i64.shr_u (local.get $x) (i64.const 2)) (i64.const 0x3333333333333333))))
    (local.set $x (i64.or
      (i64.shl (i64.and (local.get $x) (i64.const 0x0F0F0F0F0F0F0F0F)) (i64.const 4))
      (i64.and (i64.shr_u (local.get $x) (i64.const 4)) (i64.const 0x0F0F0F0F0F0F0F0F))))
    (call $bswap64 (local.get $x)))

  ;; Byte reversal: wasm loads are little-endian, GHASH reads big-endian words.
  (func $bswap64 (param $x i64) (result i64)
    (local.set $x (i64.or
      (i64.shl (i64.and (local.get $x) (i64.const 0x00FF00FF00FF00FF)) (i64.const 8))
      (i64.and (i64.shr_u (local.get $x) (i64.const 8)) (i64.const 0x00FF00FF00FF00FF))))
    (local.set $x (i64.or
      (i64.shl (i64.and (local.get $x) (i64.const 0x0000FFFF0000FFFF)) (i64.const 16))
      (i64.and (i64.shr_u (local.get $x) (i64.const 16)) (i64.const 0x0000FFFF0000FFFF))))
    (i64.rotl (local.get $x) (i64.const 32)))

  ;; H, 16 bytes at `at`.
  (func (export "set_h") (param $at i32)
    (global.set $h1 (call $bswap64 (i64.load (local.get $at))))
    (global.set $h0 (call $bswap64 (i64.load offset=8 (local.get $at))))
    (global.set $h0r (call $rev64 (global.get $h0)))
    (global.set $h1r (call $rev64 (global.get $h1)))
    (global.set $h2 (i64.xor (global.get $h0) (global.get $h1)))
    (global.set $h2r (i64.xor (global.get $h0r) (global.get $h1r))))

  ;; Y = Y * H, the block already xored into Y.
  (func $mul
    (local $y0r i64) (local $y1r i64) (local $y2 i64) (local $y2r i64)
    (local $z0 i64) (local $z1 i64) (local $z2 i64) (local $z0h i64) (local $z1h i64) (local $z2h i64)
    (local $v0 i64) (local $v1 i64) (local $v2 i64) (local $v3 i64)
    (local.set $y0r (call $rev64 (global.get $y0)))
    (local.set $y1r (call $rev64 (global.get $y1)))
    (local.set $y2 (i64.xor (global.get $y0) (global.get $y1)))
    (local.set $y2r (i64.xor (local.get $y0r) (local.get $y1r)))
    (local.set $z0 (call $bmul64 (global.get $y0) (global.get $h0)))
    (local.set $z1 (call $bmul64 (global.get $y1) (global.get $h1)))
    (local.set $z2 (call $bmul64 (local.get $y2) (global.get $h2)))
    (local.set $z0h (call $bmul64 (local.get $y0r) (global.get $h0r)))
    (local.set $z1h (call $bmul64 (local.get $y1r) (global.get $h1r)))
    (local.set $z2h (call $bmul64 (local.get $y2r) (global.get $h2r)))
    (local.set $z2 (i64.xor (local.get $z2) (i64.xor (local.get $z0) (local.get $z1))))
    (local.set $z2h (i64.xor (local.get $z2h) (i64.xor (local.get $z0h) (local.get $z1h))))
    (local.set $z0h (i64.shr_u (call $rev64 (local.get $z0h)) (i64.const 1)))
    (local.set $z1h (i64.shr_u (call $rev64 (local.get $z1h)) (i64.const 1)))
    (local.set $z2h (i64.shr_u (call $rev64 (local.get $z2h)) (i64.const 1)))
    (local.set $v0 (local.get $z0))
    (local.set $v1 (i64.xor (local.get $z0h) (local.get $z2)))
    (local.set $v2 (i64.xor (local.get $z1) (local.get $z2h)))
    (local.set $v3 (local.get $z1h))
    (local.set $v3 (i64.or (i64.shl (local.get $v3) (i64.const 1)) (i64.shr_u (local.get $v2) (i64.const 63))))
    (local.set $v2 (i64.or (i64.shl (local.get $v2) (i64.const 1)) (i64.shr_u (local.get $v1) (i64.const 63))))
    (local.set $v1 (i64.or (i64.shl (local.get $v1) (i64.const 1)) (i64.shr_u (local.get $v0) (i64.const 63))))
    (local.set $v0 (i64.shl (local.get $v0) (i64.const 1)))
    (local.set $v2 (i64.xor (local.get $v2) (i64.xor
      (i64.xor (local.get $v0) (i64.shr_u (local.get $v0) (i64.const 1)))
      (i64.xor (i64.shr_u (local.get $v0) (i64.const 2)) (i64.shr_u (local.get $v0) (i64.const 7))))))
    (local.set $v1 (i64.xor (local.get $v1) (i64.xor
      (i64.xor (i64.shl (local.get $v0) (i64.const 63)) (i64.shl (local.get $v0) (i64.const 62)))
      (i64.shl (local.get $v0) (i64.const 57)))))
    (local.set $v3 (i64.xor (local.get $v3) (i64.xor
      (i64.xor (local.get $v1) (i64.shr_u (local.get $v1) (i64.const 1)))
      (i64.xor (i64.shr_u (local.get $v1) (i64.const 2)) (i64.shr_u (local.get $v1) (i64.const 7))))))
    (local.set $v2 (i64.xor (local.get $v2) (i64.xor
      (i64.xor (i64.shl (local.get $v1) (i64.const 63)) (i64.shl (local.get $v1) (i64.const 62)))
      (i64.shl (local.get $v1) (i64.const 57)))))
    (global.set $y0 (local.get $v2))
    (global.set $y1 (local.get $v3)))

  ;; Y = (Y xor block) * H for the 16 bytes at `at`.
  (func $block (param $at i32)
    (global.set $y1 (i64.xor (global.get $y1) (call $bswap64 (i64.load (local.get $at)))))
    (global.set $y0 (i64.xor (global.get $y0) (call $bswap64 (i64.load offset=8 (local.get $at)))))
    (call $mul))

  ;; GHASH over `len` bytes at `at`, the last block zero-padded (lengths are public).
  (func $absorb (param $at i32) (param $len i32)
    (block $done
      (loop $full
        (br_if $done (i32.lt_u (local.get $len) (i32.const 16)))
        (call $block (local.get $at))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $len (i32.sub (local.get $len) (i32.const 16)))
        (br $full)))
    (if (i32.gt_u (local.get $len) (i32.const 0))
      (then
        (i64.store (i32.const 32) (i64.const 0))
        (i64.store (i32.const 40) (i64.const 0))
        (memory.copy (i32.const 32) (local.get $at) (local.get $len))
        (call $block (i32.const 32)))))

  ;; Opens one cell: `aad_len` bytes of associated data at `aad`, `len` bytes of
  ;; ciphertext at `ct` followed by its 16-byte tag, the keystream at `ks`
  ;; (E(K, J0) then E(K, inc32(J0)), ...). 1 and the plaintext in place of the
  ;; ciphertext if the tag is right; 0 and the ciphertext untouched if not.
  (func (export "open") (param $aad i32) (param $aad_len i32) (param $ct i32) (param $len i32) (param $ks i32) (result i32)
    (local $diff i64) (local $i i32) (local $tag i32)
    (global.set $y0 (i64.const 0))
    (global.set $y1 (i64.const 0))
    (call $absorb (local.get $aad) (local.get $aad_len))
    (call $absorb (local.get $ct) (local.get $len))
    (global.set $y1 (i64.xor (global.get $y1) (i64.shl (i64.extend_i32_u (local.get $aad_len)) (i64.const 3))))
    (global.set $y0 (i64.xor (global.get $y0) (i64.shl (i64.extend_i32_u (local.get $len)) (i64.const 3))))
    (call $mul)
    (local.set $tag (i32.add (local.get $ct) (local.get $len)))
    ;; xor-or over the 16 bytes: no early exit.
    (local.set $diff (i64.or
      (i64.xor (i64.xor (call $bswap64 (global.get $y1)) (i64.load (local.get $ks))) (i64.load (local.get $tag)))
      (i64.xor (i64.xor (call $bswap64 (global.get $y0)) (i64.load offset=8 (local.get $ks))) (i64.load offset=8 (local.get $tag)))))
    (if (i64.ne (local.get $diff) (i64.const 0)) (then (return (i32.const 0))))
    (local.set $ks (i32.add (local.get $ks) (i32.const 16)))
    (block $done
      (loop $words
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $len)))
        (i64.store (i32.add (local.get $ct) (local.get $i))
          (i64.xor (i64.load (i32.add (local.get $ct) (local.get $i))) (i64.load (i32.add (local.get $ks) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $words)))
    (block $end
      (loop $bytes
        (br_if $end (i32.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (local.get $ct) (local.get $i))
          (i32.xor (i32.load8_u (i32.add (local.get $ct) (local.get $i))) (i32.load8_u (i32.add (local.get $ks) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $bytes)))
    (i32.const 1))
)
