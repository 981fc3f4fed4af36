;; HMAC-SHA256 for the fast HPKE key schedule (hpke-receive.ts): a handful of
;; short HMACs per sealed row, where node:crypto spends more on creating each
;; Hmac object than on hashing. Keys are absorbed once into an inner and an
;; outer state (hmac_key), so a fixed key (HPKE's empty salt) costs nothing per
;; row. Constant-time: SHA-256 has no data-dependent branch or index; the only
;; branches are on lengths, which are public.
;;
;; Memory: [0, 256) K, [256, 512) the message schedule W, [512, 640) the last
;; block(s) with padding, [640, 672) the inner digest, [672, 704) the working
;; state, [704, 736) the initial hash value; callers use [1024, 65536).
;; States are 8 i32 in memory order; digests are big-endian bytes.
(module
  (memory (export "memory") 1)
  (data (i32.const 0)
    "\98\2f\8a\42\91\44\37\71\cf\fb\c0\b5\a5\db\b5\e9\5b\c2\56\39\f1\11\f1\59\a4\82\3f\92\d5\5e\1c\ab"
    "\98\aa\07\d8\01\5b\83\12\be\85\31\24\c3\7d\0c\55\74\5d\be\72\fe\b1\de\80\a7\06\dc\9b\74\f1\9b\c1"
    "\c1\69\9b\e4\86\47\be\ef\c6\9d\c1\0f\cc\a1\0c\24\6f\2c\e9\2d\aa\84\74\4a\dc\a9\b0\5c\da\88\f9\76"
    "\52\51\3e\98\6d\c6\31\a8\c8\27\03\b0\c7\7f\59\bf\f3\0b\e0\c6\47\91\a7\d5\51\63\ca\06\67\29\29\14"
    "\85\0a\b7\27\38\21\1b\2e\fc\6d\2c\4d\13\0d\38\53\54\73\0a\65\bb\0a\6a\76\2e\c9\c2\81\85\2c\72\92"
    "\a1\e8\bf\a2\4b\66\1a\a8\70\8b\4b\c2\a3\51\6c\c7\19\e8\92\d1\24\06\99\d6\85\35\0e\f4\70\a0\6a\10"
    "\16\c1\a4\19\08\6c\37\1e\4c\77\48\27\b5\bc\b0\34\b3\0c\1c\39\4a\aa\d8\4e\4f\ca\9c\5b\f3\6f\2e\68"
    "\ee\82\8f\74\6f\63\a5\78\14\78\c8\84\08\02\c7\8c\fa\ff\be\90\eb\6c\50\a4\f7\a3\f9\be\f2\78\71\c6"
  )
  (data (i32.const 704)
    "\67\e6\09\6a\85\ae\67\bb\72\f3\6e\3c\3a\f5\4f\a5\7f\52\0e\51\8c\68\05\9b\ab\d9\83\1f\19\cd\e0\5b"
  )

  (func $bswap (param $x i32) (result i32)
    (i32.or
      (i32.and (i32.rotr (local.get $x) (i32.const 8)) (i32.const 0xff00ff00))
      (i32.and (i32.rotl (local.get $x) (i32.const 8)) (i32.const 0x00ff00ff))))

  ;; One compression of the 64-byte block at $blk into the state at $st.
  (func $compress (param $st i32) (param $blk i32)
    (local $t i32) (local $x i32) (local $y i32) (local $t1 i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (loop $w16
      (i32.store offset=256 (local.get $t) (call $bswap (i32.load (i32.add (local.get $blk) (local.get $t)))))
      (local.set $t (i32.add (local.get $t) (i32.const 4)))
      (br_if $w16 (i32.lt_u (local.get $t) (i32.const 64))))
    (loop $w64
      ;; W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]
      (local.set $x (i32.load offset=248 (local.get $t)))
      (local.set $y (i32.load offset=196 (local.get $t)))
      (i32.store offset=256 (local.get $t)
        (i32.add
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $x) (i32.const 17)) (i32.rotr (local.get $x) (i32.const 19))) (i32.shr_u (local.get $x) (i32.const 10)))
            (i32.load offset=228 (local.get $t)))
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $y) (i32.const 7)) (i32.rotr (local.get $y) (i32.const 18))) (i32.shr_u (local.get $y) (i32.const 3)))
            (i32.load offset=192 (local.get $t)))))
      (local.set $t (i32.add (local.get $t) (i32.const 4)))
      (br_if $w64 (i32.lt_u (local.get $t) (i32.const 256))))
    (local.set $a (i32.load offset=0 (local.get $st)))
    (local.set $b (i32.load offset=4 (local.get $st)))
    (local.set $c (i32.load offset=8 (local.get $st)))
    (local.set $d (i32.load offset=12 (local.get $st)))
    (local.set $e (i32.load offset=16 (local.get $st)))
    (local.set $f (i32.load offset=20 (local.get $st)))
    (local.set $g (i32.load offset=24 (local.get $st)))
    (local.set $h (i32.load offset=28 (local.get $st)))
    (local.set $t (i32.const 0))
    ;; Eight rounds per pass, the variables' roles rotating instead of their values moving:
    ;; T1 = h + S1(e) + Ch(e, f, g) + K[t] + W[t]; d += T1; h = T1 + S0(a) + Maj(a, b, c).
    (loop $rounds
      (local.set $t1
        (i32.add
          (i32.add (local.get $h)
            (i32.xor (i32.xor (i32.rotr (local.get $e) (i32.const 6)) (i32.rotr (local.get $e) (i32.const 11))) (i32.rotr (local.get $e) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $e) (local.get $f)) (i32.and (i32.xor (local.get $e) (i32.const -1)) (local.get $g)))
            (i32.add (i32.load offset=0 (local.get $t)) (i32.load offset=256 (local.get $t))))))
      (local.set $d (i32.add (local.get $d) (local.get $t1)))
      (local.set $h
        (i32.add (local.get $t1)
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $a) (i32.const 2)) (i32.rotr (local.get $a) (i32.const 13))) (i32.rotr (local.get $a) (i32.const 22)))
            (i32.xor (i32.xor (i32.and (local.get $a) (local.get $b)) (i32.and (local.get $a) (local.get $c))) (i32.and (local.get $b) (local.get $c))))))
      (local.set $t1
        (i32.add
          (i32.add (local.get $g)
            (i32.xor (i32.xor (i32.rotr (local.get $d) (i32.const 6)) (i32.rotr (local.get $d) (i32.const 11))) (i32.rotr (local.get $d) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $d) (local.get $e)) (i32.and (i32.xor (local.get $d) (i32.const -1)) (local.get $f)))
            (i32.add (i32.load offset=4 (local.get $t)) (i32.load offset=260 (local.get $t))))))
      (local.set $c (i32.add (local.get $c) (local.get $t1)))
      (local.set $g
        (i32.add (local.get $t1)
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $h) (i32.const 2)) (i32.rotr (local.get $h) (i32.const 13))) (i32.rotr (local.get $h) (i32.const 22)))
            (i32.xor (i32.xor (i32.and (local.get $h) (local.get $a)) (i32.and (local.get $h) (local.get $b))) (i32.and (local.get $a) (local.get $b))))))
      (local.set $t1
        (i32.add
          (i32.add (local.get $f)
            (i32.xor (i32.xor (i32.rotr (local.get $c) (i32.const 6)) (i32.rotr (local.get $c) (i32.const 11))) (i32.rotr (local.get $c) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $c) (local.get $d)) (i32.and (i32.xor (local.get $c) (i32.const -1)) (local.get $e)))
            (i32.add (i32.load offset=8 (local.get $t)) (i32.load offset=264 (local.get $t))))))
      (local.set $b (i32.add (local.get $b) (local.get $t1)))
      (local.set $f
        (i32.add (local.get $t1)
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $g) (i32.const 2)) (i32.rotr (local.get $g) (i32.const 13))) (i32.rotr (local.get $g) (i32.const 22)))
            (i32.xor (i32.xor (i32.and (local.get $g) (local.get $h)) (i32.and (local.get $g) (local.get $a))) (i32.and (local.get $h) (local.get $a))))))
      (local.set $t1
        (i32.add
          (i32.add (local.get $e)
            (i32.xor (i32.xor (i32.rotr (local.get $b) (i32.const 6)) (i32.rotr (local.get $b) (i32.const 11))) (i32.rotr (local.get $b) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $b) (local.get $c)) (i32.and (i32.xor (local.get $b) (i32.const -1)) (local.get $d)))
            (i32.add (i32.load offset=12 (local.get $t)) (i32.load offset=268 (local.get $t))))))
      (local.set $a (i32.add (local.get $a) (local.get $t1)))
      (local.set $e
        (i32.add (local.get $t1)
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $f) (i32.const 2)) (i32.rotr (local.get $f) (i32.const 13))) (i32.rotr (local.get $f) (i32.const 22)))
            (i32.xor (i32.xor (i32.and (local.get $f) (local.get $g)) (i32.and (local.get $f) (local.get $h))) (i32.and (local.get $g) (local.get $h))))))
      (local.set $t1
        (i32.add
          (i32.add (local.get $d)
            (i32.xor (i32.xor (i32.rotr (local.get $a) (i32.const 6)) (i32.rotr (local.get $a) (i32.const 11))) (i32.rotr (local.get $a) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $a) (local.get $b)) (i32.and (i32.xor (local.get $a) (i32.const -1)) (local.get $c)))
            (i32.add (i32.load offset=16 (local.get $t)) (i32.load offset=272 (local.get $t))))))
      (local.set $h (i32.add (local.get $h) (local.get $t1)))
      (local.set $d
        (i32.add (local.get $t1)
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $e) (i32.const 2)) (i32.rotr (local.get $e) (i32.const 13))) (i32.rotr (local.get $e) (i32.const 22)))
            (i32.xor (i32.xor (i32.and (local.get $e) (local.get $f)) (i32.and (local.get $e) (local.get $g))) (i32.and (local.get $f) (local.get $g))))))
      (local.set $t1
        (i32.add
          (i32.add (local.get $c)
            (i32.xor (i32.xor (i32.rotr (local.get $h) (i32.const 6)) (i32.rotr (local.get $h) (i32.const 11))) (i32.rotr (local.get $h) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $h) (local.get $a)) (i32.and (i32.xor (local.get $h) (i32.const -1)) (local.get $b)))
            (i32.add (i32.load offset=20 (local.get $t)) (i32.load offset=276 (local.get $t))))))
      (local.set $g (i32.add (local.get $g) (local.get $t1)))
      (local.set $c
        (i32.add (local.get $t1)
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $d) (i32.const 2)) (i32.rotr (local.get $d) (i32.const 13))) (i32.rotr (local.get $d) (i32.const 22)))
            (i32.xor (i32.xor (i32.and (local.get $d) (local.get $e)) (i32.and (local.get $d) (local.get $f))) (i32.and (local.get $e) (local.get $f))))))
      (local.set $t1
        (i32.add
          (i32.add (local.get $b)
            (i32.xor (i32.xor (i32.rotr (local.get $g) (i32.const 6)) (i32.rotr (local.get $g) (i32.const 11))) (i32.rotr (local.get $g) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $g) (local.get $h)) (i32.and (i32.xor (local.get $g) (i32.const -1)) (local.get $a)))
            (i32.add (i32.load offset=24 (local.get $t)) (i32.load offset=280 (local.get $t))))))
      (local.set $f (i32.add (local.get $f) (local.get $t1)))
      (local.set $b
        (i32.add (local.get $t1)
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $c) (i32.const 2)) (i32.rotr (local.get $c) (i32.const 13))) (i32.rotr (local.get $c) (i32.const 22)))
            (i32.xor (i32.xor (i32.and (local.get $c) (local.get $d)) (i32.and (local.get $c) (local.get $e))) (i32.and (local.get $d) (local.get $e))))))
      (local.set $t1
        (i32.add
          (i32.add (local.get $a)
            (i32.xor (i32.xor (i32.rotr (local.get $f) (i32.const 6)) (i32.rotr (local.get $f) (i32.const 11))) (i32.rotr (local.get $f) (i32.const 25))))
          (i32.add
            (i32.xor (i32.and (local.get $f) (local.get $g)) (i32.and (i32.xor (local.get $f) (i32.const -1)) (local.get $h)))
            (i32.add (i32.load offset=28 (local.get $t)) (i32.load offset=284 (local.get $t))))))
      (local.set $e (i32.add (local.get $e) (local.get $t1)))
      (local.set $a
        (i32.add (local.get $t1)
          (i32.add
            (i32.xor (i32.xor (i32.rotr (local.get $b) (i32.const 2)) (i32.rotr (local.get $b) (i32.const 13))) (i32.rotr (local.get $b) (i32.const 22)))
            (i32.xor (i32.xor (i32.and (local.get $b) (local.get $c)) (i32.and (local.get $b) (local.get $d))) (i32.and (local.get $c) (local.get $d))))))
      (local.set $t (i32.add (local.get $t) (i32.const 32)))
      (br_if $rounds (i32.lt_u (local.get $t) (i32.const 256))))
    (i32.store offset=0 (local.get $st) (i32.add (i32.load offset=0 (local.get $st)) (local.get $a)))
    (i32.store offset=4 (local.get $st) (i32.add (i32.load offset=4 (local.get $st)) (local.get $b)))
    (i32.store offset=8 (local.get $st) (i32.add (i32.load offset=8 (local.get $st)) (local.get $c)))
    (i32.store offset=12 (local.get $st) (i32.add (i32.load offset=12 (local.get $st)) (local.get $d)))
    (i32.store offset=16 (local.get $st) (i32.add (i32.load offset=16 (local.get $st)) (local.get $e)))
    (i32.store offset=20 (local.get $st) (i32.add (i32.load offset=20 (local.get $st)) (local.get $f)))
    (i32.store offset=24 (local.get $st) (i32.add (i32.load offset=24 (local.get $st)) (local.get $g)))
    (i32.store offset=28 (local.get $st) (i32.add (i32.load offset=28 (local.get $st)) (local.get $h))))

  (func $copy (param $to i32) (param $from i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (local.get $to) (local.get $i)) (i32.load8_u (i32.add (local.get $from) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Zeroes to[0, n), n a multiple of 8.
  (func $zero (param $to i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i64.store (i32.add (local.get $to) (local.get $i)) (i64.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $next))))

  ;; A state's 32 bytes.
  (func $copy32 (param $to i32) (param $from i32)
    (i64.store offset=0 (local.get $to) (i64.load offset=0 (local.get $from)))
    (i64.store offset=8 (local.get $to) (i64.load offset=8 (local.get $from)))
    (i64.store offset=16 (local.get $to) (i64.load offset=16 (local.get $from)))
    (i64.store offset=24 (local.get $to) (i64.load offset=24 (local.get $from))))

  ;; SHA-256 of (the 64 bytes the state at $st has absorbed) || msg[0, len), into $out; $st is left as it was.
  (func $finish (param $st i32) (param $msg i32) (param $len i32) (param $out i32)
    (local $rem i32) (local $n i32) (local $i i32)
    (call $copy32 (i32.const 672) (local.get $st))
    (local.set $rem (local.get $len))
    (block $tail
      (loop $blocks
        (br_if $tail (i32.lt_u (local.get $rem) (i32.const 64)))
        (call $compress (i32.const 672) (local.get $msg))
        (local.set $msg (i32.add (local.get $msg) (i32.const 64)))
        (local.set $rem (i32.sub (local.get $rem) (i32.const 64)))
        (br $blocks)))
    (call $zero (i32.const 512) (i32.const 128))
    (call $copy (i32.const 512) (local.get $msg) (local.get $rem))
    (i32.store8 offset=512 (local.get $rem) (i32.const 0x80))
    (local.set $n (select (i32.const 64) (i32.const 128) (i32.lt_u (local.get $rem) (i32.const 56))))
    ;; The length in bits, big-endian, after the 64 bytes of the key block (messages here are far below 2^29 bytes).
    (i32.store offset=508 (local.get $n) (call $bswap (i32.shl (i32.add (local.get $len) (i32.const 64)) (i32.const 3))))
    (call $compress (i32.const 672) (i32.const 512))
    (if (i32.eq (local.get $n) (i32.const 128)) (then (call $compress (i32.const 672) (i32.const 576))))
    (loop $out
      (i32.store (i32.add (local.get $out) (local.get $i)) (call $bswap (i32.load offset=672 (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $out (i32.lt_u (local.get $i) (i32.const 32)))))

  ;; The inner and outer states of the HMAC key key[0, len), len <= 64, into ks[0, 32) and ks[32, 64).
  (func (export "hmac_key") (param $key i32) (param $len i32) (param $ks i32)
    (local $i i32)
    (call $zero (i32.const 512) (i32.const 64))
    (call $copy (i32.const 512) (local.get $key) (local.get $len))
    (loop $ipad
      (i64.store offset=512 (local.get $i) (i64.xor (i64.load offset=512 (local.get $i)) (i64.const 0x3636363636363636)))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $ipad (i32.lt_u (local.get $i) (i32.const 64))))
    (call $copy32 (local.get $ks) (i32.const 704))
    (call $compress (local.get $ks) (i32.const 512))
    (local.set $i (i32.const 0))
    (loop $opad
      ;; 0x36 ^ 0x5c: from the inner pad to the outer.
      (i64.store offset=512 (local.get $i) (i64.xor (i64.load offset=512 (local.get $i)) (i64.const 0x6a6a6a6a6a6a6a6a)))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $opad (i32.lt_u (local.get $i) (i32.const 64))))
    (call $copy32 (i32.add (local.get $ks) (i32.const 32)) (i32.const 704))
    (call $compress (i32.add (local.get $ks) (i32.const 32)) (i32.const 512)))

  ;; HMAC(key of the states at $ks, msg[0, len)) into out[0, 32).
  (func (export "hmac") (param $ks i32) (param $msg i32) (param $len i32) (param $out i32)
    (call $finish (local.get $ks) (local.get $msg) (local.get $len) (i32.const 640))
    (call $finish (i32.add (local.get $ks) (i32.const 32)) (i32.const 640) (i32.const 32) (local.get $out)))

  ;; Zeroes this module's scratch (W, padding, digests, working state): it held secrets.
  (func (export "wipe")
    (call $zero (i32.const 256) (i32.const 448)))
)
