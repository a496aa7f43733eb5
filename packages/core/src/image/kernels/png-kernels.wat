;; The PNG encoder's kernels (see ../encode.ts) as WebAssembly with fixed-width SIMD: Paeth
;; filtering, Adler-32, RGB + alpha interleaving, CRC-32, deflate tokenising (zlib's Z_RLE) and
;; Huffman bit emission. Every argument that names a buffer is its byte offset in the imported
;; memory.
;;
;; This is a template: the build (scripts/build-kernels.ts) replaces each placeholder in double
;; braces with a number from png-layout.ts (see png-kernel-template.ts) and compiles the result
;; with wabt: crcTable(k) is the byte offset of the k-th CRC table, histogram(k) that of the
;; k-th histogram from the first.
(module
  (import "env" "memory" (memory 1))

  ;; paethRows(source, target, rows, stride, bpp): writes `rows` rows from `source` (the row above
  ;; it at source - stride) to `target` as PNG rows: filter type 4 (Paeth), then the filtered bytes.
  ;; Per byte x with left a, above b, above-left c (0 off the left edge):
  ;;   p = a + b - c; predictor = a if |p-a| <= |p-b| and |p-a| <= |p-c|, else b if |p-b| <= |p-c|,
  ;;   else c; out = x - predictor (mod 256).
  ;; |p-a| = |b-c|, |p-b| = |a-c|, |p-c| = |(b-c) + (a-c)|, computed in 16-bit lanes. The first bpp
  ;; bytes (a = c = 0, so the predictor is b) go one by one, the rest 16 at a time; the last step of
  ;; a row may run past it, into the next row's bytes, which that row then writes, or into the
  ;; padding after the last.
  (func (export "paethRows")
    (param $source i32) (param $target i32) (param $rows i32) (param $stride i32) (param $bpp i32)
    (local $row i32) (local $i i32) (local $s i32) (local $p i32) (local $d i32)
    (local $a v128) (local $b v128) (local $c v128) (local $paLow v128) (local $pbLow v128)
    (local $pcLow v128) (local $paHigh v128) (local $pbHigh v128) (local $pcHigh v128)
    i32.const 0  local.set $row
    local.get $source  local.set $s
    local.get $target  local.set $d
    block loop  ;; each row
      local.get $row  local.get $rows  i32.lt_u  i32.eqz  br_if 1
      local.get $d  i32.const 4  i32.store8
      local.get $d  i32.const 1  i32.add  local.set $d
      local.get $s  local.get $stride  i32.sub  local.set $p
      i32.const 0  local.set $i
      block loop  ;; the first pixel: the predictor is the byte above
        local.get $i  local.get $bpp  i32.lt_u  i32.eqz  br_if 1
        local.get $d  local.get $i  i32.add
        local.get $s  local.get $i  i32.add  i32.load8_u
        local.get $p  local.get $i  i32.add  i32.load8_u
        i32.sub  i32.store8
        local.get $i  i32.const 1  i32.add  local.set $i
        br 0
      end end
      block loop  ;; the rest, 16 bytes a step
        local.get $i  local.get $stride  i32.lt_u  i32.eqz  br_if 1
        local.get $s  local.get $i  i32.add  local.get $bpp  i32.sub  v128.load  local.set $a
        local.get $p  local.get $i  i32.add  v128.load  local.set $b
        local.get $p  local.get $i  i32.add  local.get $bpp  i32.sub  v128.load  local.set $c
        ;; The low eight bytes in 16-bit lanes: pa = |b-c|, pb = |a-c|, pc = |(b-c) + (a-c)|.
        local.get $b  i16x8.extend_low_i8x16_u  local.get $c  i16x8.extend_low_i8x16_u  i16x8.sub
        local.set $paLow
        local.get $a  i16x8.extend_low_i8x16_u  local.get $c  i16x8.extend_low_i8x16_u  i16x8.sub
        local.set $pbLow
        local.get $paLow  local.get $pbLow  i16x8.add  i16x8.abs  local.set $pcLow
        local.get $paLow  i16x8.abs  local.set $paLow
        local.get $pbLow  i16x8.abs  local.set $pbLow
        ;; The high eight bytes.
        local.get $b  i16x8.extend_high_i8x16_u  local.get $c  i16x8.extend_high_i8x16_u  i16x8.sub
        local.set $paHigh
        local.get $a  i16x8.extend_high_i8x16_u  local.get $c  i16x8.extend_high_i8x16_u  i16x8.sub
        local.set $pbHigh
        local.get $paHigh  local.get $pbHigh  i16x8.add  i16x8.abs  local.set $pcHigh
        local.get $paHigh  i16x8.abs  local.set $paHigh
        local.get $pbHigh  i16x8.abs  local.set $pbHigh
        local.get $d  local.get $i  i32.add
        local.get $s  local.get $i  i32.add  v128.load
        ;; bitselect(a, bitselect(b, c, pb <= pc), pa <= pb && pa <= pc)
        local.get $a
        local.get $b  local.get $c
        local.get $pbLow  local.get $pcLow  i16x8.le_s
        local.get $pbHigh  local.get $pcHigh  i16x8.le_s
        i8x16.narrow_i16x8_s  v128.bitselect
        local.get $paLow  local.get $pbLow  i16x8.le_s
        local.get $paLow  local.get $pcLow  i16x8.le_s  v128.and
        local.get $paHigh  local.get $pbHigh  i16x8.le_s
        local.get $paHigh  local.get $pcHigh  i16x8.le_s  v128.and
        i8x16.narrow_i16x8_s  v128.bitselect
        i8x16.sub  v128.store
        local.get $i  i32.const 16  i32.add  local.set $i
        br 0
      end end
      local.get $s  local.get $stride  i32.add  local.set $s
      local.get $d  local.get $stride  i32.add  local.set $d
      local.get $row  i32.const 1  i32.add  local.set $row
      br 0
    end end)

  ;; adler32(at, length, adler) -> adler: continues an Adler-32 over `length` bytes at `at`. Sixteen
  ;; bytes a step: with s1 the running byte sum and s2 the sum of the s1s, a step adds sum(bytes) to
  ;; s1 and 16*s1 + sum((16-k)*byte[k]) to s2. Within a run of up to 347 steps the lanes of three
  ;; vectors collect the byte sums, the s1 values before each step, and the weighted sums without
  ;; overflowing; the run is then folded in with 64-bit arithmetic modulo 65521. Leftover bytes go
  ;; one by one.
  (func (export "adler32")
    (param $at i32) (param $length i32) (param $adler i32)
    (result i32)
    (local $s1 i32) (local $s2 i32) (local $steps i32) (local $step i32)
    (local $sums v128) (local $prefix v128) (local $weighted v128) (local $bytes v128)
    local.get $adler  i32.const 0xffff  i32.and  local.set $s1
    local.get $adler  i32.const 16  i32.shr_u  local.set $s2
    block loop
      local.get $length  i32.const 16  i32.ge_u  i32.eqz  br_if 1
      ;; steps = min(length / 16, 347)
      i32.const 347  local.get $length  i32.const 4  i32.shr_u
      local.get $length  i32.const 4  i32.shr_u  i32.const 347  i32.ge_u  select  local.set $steps
      v128.const i64x2 0 0  local.set $sums
      v128.const i64x2 0 0  local.set $prefix
      v128.const i64x2 0 0  local.set $weighted
      i32.const 0  local.set $step
      block loop
        local.get $step  local.get $steps  i32.lt_u  i32.eqz  br_if 1
        local.get $at  v128.load  local.set $bytes
        local.get $prefix  local.get $sums  i32x4.add  local.set $prefix
        local.get $sums
        local.get $bytes  i16x8.extadd_pairwise_i8x16_u  i32x4.extadd_pairwise_i16x8_u
        i32x4.add  local.set $sums
        local.get $weighted
        local.get $bytes  i16x8.extend_low_i8x16_u  v128.const i16x8 16 15 14 13 12 11 10 9
        i32x4.dot_i16x8_s  i32x4.add
        local.get $bytes  i16x8.extend_high_i8x16_u  v128.const i16x8 8 7 6 5 4 3 2 1
        i32x4.dot_i16x8_s  i32x4.add
        local.set $weighted
        local.get $at  i32.const 16  i32.add  local.set $at
        local.get $step  i32.const 1  i32.add  local.set $step
        br 0
      end end
      ;; s2 = (s2 + 16 * steps * s1 + 16 * sum(prefix) + sum(weighted)) % 65521
      local.get $s2  i64.extend_i32_u
      local.get $steps  i32.const 4  i32.shl  i64.extend_i32_u  local.get $s1  i64.extend_i32_u
      i64.mul  i64.add
      local.get $prefix  i32x4.extract_lane 0  local.get $prefix  i32x4.extract_lane 1  i32.add
      local.get $prefix  i32x4.extract_lane 2  i32.add  local.get $prefix  i32x4.extract_lane 3
      i32.add  i64.extend_i32_u  i64.const 16  i64.mul  i64.add
      local.get $weighted  i32x4.extract_lane 0  local.get $weighted  i32x4.extract_lane 1  i32.add
      local.get $weighted  i32x4.extract_lane 2  i32.add  local.get $weighted  i32x4.extract_lane 3
      i32.add  i64.extend_i32_u  i64.add
      i64.const 65521  i64.rem_u  i32.wrap_i64  local.set $s2
      ;; s1 = (s1 + sum(sums)) % 65521
      local.get $s1  i64.extend_i32_u
      local.get $sums  i32x4.extract_lane 0  local.get $sums  i32x4.extract_lane 1  i32.add
      local.get $sums  i32x4.extract_lane 2  i32.add  local.get $sums  i32x4.extract_lane 3
      i32.add  i64.extend_i32_u  i64.add
      i64.const 65521  i64.rem_u  i32.wrap_i64  local.set $s1
      local.get $length  local.get $steps  i32.const 4  i32.shl  i32.sub  local.set $length
      br 0
    end end
    block loop
      local.get $length  i32.eqz  br_if 1
      local.get $s1  local.get $at  i32.load8_u  i32.add  i32.const 65521  i32.rem_u  local.set $s1
      local.get $s2  local.get $s1  i32.add  i32.const 65521  i32.rem_u  local.set $s2
      local.get $at  i32.const 1  i32.add  local.set $at
      local.get $length  i32.const 1  i32.sub  local.set $length
      br 0
    end end
    local.get $s2  i32.const 16  i32.shl  local.get $s1  i32.or)

  ;; interleave(rgb, alpha, target, count): writes `count` pixels of RGB at `rgb` and alpha at
  ;; `alpha` to `target` as RGBA, the colour of pixels whose alpha is 0 as 0. Sixteen pixels a step:
  ;; three vectors of RGB and one of alpha shuffled into four of RGBA, each cleared where its
  ;; pixels' alpha is 0. The last step may read and write past the end (into the padding).
  (func (export "interleave")
    (param $rgb i32) (param $alpha i32) (param $target i32) (param $count i32)
    (local $pixel i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $a v128) (local $clear v128)
    i32.const 0  local.set $pixel
    block loop
      local.get $pixel  local.get $count  i32.lt_u  i32.eqz  br_if 1
      local.get $rgb  v128.load  local.set $r0
      local.get $rgb  v128.load offset=16  local.set $r1
      local.get $rgb  v128.load offset=32  local.set $r2
      local.get $alpha  v128.load  local.set $a
      local.get $a  v128.const i64x2 0 0  i8x16.eq  local.set $clear
      ;; RGB bytes 0-11 are r0's 0-11; 12-23 r0's 12-15 and r1's 0-7; 24-35 r1's 8-15 and
      ;; r2's 0-3; 36-47 r2's 4-15.
      local.get $target
      local.get $r0  local.get $a  i8x16.shuffle 0 1 2 16 3 4 5 17 6 7 8 18 9 10 11 19
      local.get $clear  local.get $clear  i8x16.shuffle 0 0 0 0 1 1 1 1 2 2 2 2 3 3 3 3
      v128.andnot  v128.store
      local.get $target
      local.get $r0  local.get $r1  i8x16.shuffle 12 13 14 15 16 17 18 19 20 21 22 23 0 0 0 0
      local.get $a  i8x16.shuffle 0 1 2 20 3 4 5 21 6 7 8 22 9 10 11 23
      local.get $clear  local.get $clear  i8x16.shuffle 4 4 4 4 5 5 5 5 6 6 6 6 7 7 7 7
      v128.andnot  v128.store offset=16
      local.get $target
      local.get $r1  local.get $r2  i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 0 0 0 0
      local.get $a  i8x16.shuffle 0 1 2 24 3 4 5 25 6 7 8 26 9 10 11 27
      local.get $clear  local.get $clear  i8x16.shuffle 8 8 8 8 9 9 9 9 10 10 10 10 11 11 11 11
      v128.andnot  v128.store offset=32
      local.get $target
      local.get $r2  local.get $a  i8x16.shuffle 4 5 6 28 7 8 9 29 10 11 12 30 13 14 15 31
      local.get $clear  local.get $clear
      i8x16.shuffle 12 12 12 12 13 13 13 13 14 14 14 14 15 15 15 15
      v128.andnot  v128.store offset=48
      local.get $rgb  i32.const 48  i32.add  local.set $rgb
      local.get $alpha  i32.const 16  i32.add  local.set $alpha
      local.get $target  i32.const 64  i32.add  local.set $target
      local.get $pixel  i32.const 16  i32.add  local.set $pixel
      br 0
    end end)

  ;; crc32(at, length, crc) -> crc, with the eight tables from CRC_TABLES_AT. Eight bytes a step
  ;; (slicing by 8: the CRC so far xored into the first four, each byte looked up in the table for
  ;; its distance from the end); leftover bytes one by one.
  (func (export "crc32")
    (param $at i32) (param $length i32) (param $crc i32)
    (result i32)
    (local $low i32) (local $high i32)
    local.get $crc  i32.const -1  i32.xor  local.set $crc
    block loop
      local.get $length  i32.const 8  i32.ge_u  i32.eqz  br_if 1
      local.get $at  i32.load  local.get $crc  i32.xor  local.set $low
      local.get $at  i32.load offset=4  local.set $high
      local.get $low
      i32.const 0xff  i32.and
      i32.const 2  i32.shl  i32.load offset={{crcTable(7)}}
      local.get $low  i32.const 8  i32.shr_u
      i32.const 0xff  i32.and
      i32.const 2  i32.shl  i32.load offset={{crcTable(6)}}  i32.xor
      local.get $low  i32.const 16  i32.shr_u
      i32.const 0xff  i32.and
      i32.const 2  i32.shl  i32.load offset={{crcTable(5)}}  i32.xor
      local.get $low  i32.const 24  i32.shr_u
      i32.const 2  i32.shl  i32.load offset={{crcTable(4)}}  i32.xor
      local.get $high
      i32.const 0xff  i32.and
      i32.const 2  i32.shl  i32.load offset={{crcTable(3)}}  i32.xor
      local.get $high  i32.const 8  i32.shr_u
      i32.const 0xff  i32.and
      i32.const 2  i32.shl  i32.load offset={{crcTable(2)}}  i32.xor
      local.get $high  i32.const 16  i32.shr_u
      i32.const 0xff  i32.and
      i32.const 2  i32.shl  i32.load offset={{crcTable(1)}}  i32.xor
      local.get $high  i32.const 24  i32.shr_u
      i32.const 2  i32.shl  i32.load offset={{crcTable(0)}}  i32.xor
      local.set $crc
      local.get $at  i32.const 8  i32.add  local.set $at
      local.get $length  i32.const 8  i32.sub  local.set $length
      br 0
    end end
    block loop
      local.get $length  i32.eqz  br_if 1
      local.get $crc  local.get $at  i32.load8_u  i32.xor  i32.const 0xff  i32.and
      i32.const 2  i32.shl  i32.load offset={{crcTable(0)}}
      local.get $crc  i32.const 8  i32.shr_u  i32.xor  local.set $crc
      local.get $at  i32.const 1  i32.add  local.set $at
      local.get $length  i32.const 1  i32.sub  local.set $length
      br 0
    end end
    local.get $crc  i32.const -1  i32.xor)

  ;; tokenize(source, length, tokens, histograms, lengthCodes) -> count. Splits `length` bytes into
  ;; deflate symbols the way zlib's Z_RLE strategy does: a run of 3 to 258 bytes equal to the byte
  ;; before it becomes one match at distance 1 (token 256 + run length), any other byte a literal
  ;; (token = the byte). Tokens are 16-bit. Symbol counts go to the lit/length histograms (each
  ;; HISTOGRAM_STRIDE bytes after the one before): literals of a 16-byte step spread over four (so
  ;; that a repeated byte does not wait on its own last increment), everything else to the first,
  ;; matches by their length code from `lengthCodes` (one byte per length, 0-28). Runs grow 16 bytes
  ;; a step while they last.
  (func (export "tokenize")
    (param $source i32) (param $length i32) (param $tokens i32) (param $histograms i32)
    (param $lengthCodes i32)
    (result i32)
    (local $i i32) (local $t i32) (local $byte i32) (local $run i32) (local $address i32)
    (local $bytes v128) (local $repeated v128)
    i32.const 0  local.set $i
    i32.const 0  local.set $t
    block loop
      local.get $i  local.get $length  i32.lt_u  i32.eqz  br_if 1
      ;; Sixteen at once where 0 < i <= length - 18: a run can start at byte j only if bytes
      ;; j-1 to j+2 are equal; where none of the 16 can, they are literals, else those before
      ;; the first that can are, one by one, and the one-symbol step below takes the run.
      local.get $i  i32.const 0  i32.ne
      local.get $i  local.get $length  i32.const 18  i32.sub  i32.le_s
      i32.and
      if
        local.get $source  local.get $i  i32.add  i32.const 1  i32.sub  local.set $address
        local.get $address  v128.load offset=1  local.set $bytes
        local.get $bytes  local.get $address  v128.load  i8x16.eq
        local.get $address  v128.load offset=2  local.get $bytes  i8x16.eq  v128.and
        local.get $address  v128.load offset=3  local.get $address  v128.load offset=2  i8x16.eq
        v128.and
        i8x16.bitmask  local.set $run
        local.get $run  i32.eqz
        if
          ;; Sixteen literals: their tokens, then their counts, bytes 0-3 in the first
          ;; histogram, 4-7 in the second, 8-11 in the third, 12-15 in the fourth.
          local.get $tokens  local.get $t  i32.const 1  i32.shl  i32.add  local.set $address
          local.get $address  local.get $bytes  i16x8.extend_low_i8x16_u  v128.store
          local.get $address  local.get $bytes  i16x8.extend_high_i8x16_u  v128.store offset=16
          local.get $source  local.get $i  i32.add  i32.load8_u offset=0
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(0)}}
          i32.const 1  i32.add  i32.store offset={{histogram(0)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=1
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(0)}}
          i32.const 1  i32.add  i32.store offset={{histogram(0)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=2
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(0)}}
          i32.const 1  i32.add  i32.store offset={{histogram(0)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=3
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(0)}}
          i32.const 1  i32.add  i32.store offset={{histogram(0)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=4
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(1)}}
          i32.const 1  i32.add  i32.store offset={{histogram(1)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=5
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(1)}}
          i32.const 1  i32.add  i32.store offset={{histogram(1)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=6
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(1)}}
          i32.const 1  i32.add  i32.store offset={{histogram(1)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=7
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(1)}}
          i32.const 1  i32.add  i32.store offset={{histogram(1)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=8
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(2)}}
          i32.const 1  i32.add  i32.store offset={{histogram(2)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=9
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(2)}}
          i32.const 1  i32.add  i32.store offset={{histogram(2)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=10
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(2)}}
          i32.const 1  i32.add  i32.store offset={{histogram(2)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=11
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(2)}}
          i32.const 1  i32.add  i32.store offset={{histogram(2)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=12
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(3)}}
          i32.const 1  i32.add  i32.store offset={{histogram(3)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=13
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(3)}}
          i32.const 1  i32.add  i32.store offset={{histogram(3)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=14
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(3)}}
          i32.const 1  i32.add  i32.store offset={{histogram(3)}}
          local.get $source  local.get $i  i32.add  i32.load8_u offset=15
          i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(3)}}
          i32.const 1  i32.add  i32.store offset={{histogram(3)}}
          local.get $i  i32.const 16  i32.add  local.set $i
          local.get $t  i32.const 16  i32.add  local.set $t
          br 2  ;; on to the next step
        end
        block loop
          local.get $run  i32.ctz  i32.eqz  br_if 1
          ;; A literal.
          local.get $source  local.get $i  i32.add  i32.load8_u  local.set $byte
          local.get $tokens  local.get $t  i32.const 1  i32.shl  i32.add
          local.get $byte  i32.store16
          local.get $t  i32.const 1  i32.add  local.set $t
          local.get $byte  i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
          local.get $address  local.get $address  i32.load offset={{histogram(0)}}
          i32.const 1  i32.add  i32.store offset={{histogram(0)}}
          local.get $i  i32.const 1  i32.add  local.set $i
          local.get $run  i32.const 1  i32.shr_u  local.set $run
          br 0
        end end
      end
      ;; One symbol: a run where 0 < i, i + 2 < length and bytes i-1 to i+2 are equal.
      local.get $source  local.get $i  i32.add  i32.load8_u  local.set $byte
      local.get $i  i32.const 0  i32.ne
      local.get $i  i32.const 2  i32.add  local.get $length  i32.lt_u  i32.and
      local.get $source  local.get $i  i32.add  i32.const 1  i32.sub  i32.load8_u  local.get $byte
      i32.eq  i32.and
      local.get $source  local.get $i  i32.add  i32.load8_u offset=1  local.get $byte  i32.eq
      i32.and
      local.get $source  local.get $i  i32.add  i32.load8_u offset=2  local.get $byte  i32.eq
      i32.and
      if  ;; a match: bytes i to i + 2 repeat the one before
        i32.const 3  local.set $run
        local.get $byte  i8x16.splat  local.set $repeated
        block loop  ;; 16 at a time while run + 16 <= 258, i + run + 16 <= length and all repeat
          local.get $run  i32.const 242  i32.le_u
          local.get $i  local.get $run  i32.add  i32.const 16  i32.add  local.get $length  i32.le_u
          i32.and
          if
            local.get $source  local.get $i  i32.add  local.get $run  i32.add  v128.load
            local.get $repeated  i8x16.eq  i8x16.all_true  local.set $address
          else
            i32.const 0  local.set $address
          end
          local.get $address  i32.eqz  br_if 1
          local.get $run  i32.const 16  i32.add  local.set $run
          br 0
        end end
        block loop  ;; then one at a time while run < 258, i + run < length and the byte repeats
          local.get $run  i32.const 258  i32.lt_u
          local.get $i  local.get $run  i32.add  local.get $length  i32.lt_u
          i32.and
          if
            local.get $source  local.get $i  i32.add  local.get $run  i32.add  i32.load8_u
            local.get $byte  i32.eq  local.set $address
          else
            i32.const 0  local.set $address
          end
          local.get $address  i32.eqz  br_if 1
          local.get $run  i32.const 1  i32.add  local.set $run
          br 0
        end end
        local.get $tokens  local.get $t  i32.const 1  i32.shl  i32.add
        local.get $run  i32.const 256  i32.add  i32.store16
        local.get $t  i32.const 1  i32.add  local.set $t
        local.get $lengthCodes  local.get $run  i32.add  i32.load8_u  i32.const 257  i32.add
        i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
        local.get $address  local.get $address  i32.load offset={{histogram(0)}}
        i32.const 1  i32.add  i32.store offset={{histogram(0)}}
        local.get $i  local.get $run  i32.add  local.set $i
      else  ;; a literal
        local.get $tokens  local.get $t  i32.const 1  i32.shl  i32.add
        local.get $byte  i32.store16
        local.get $t  i32.const 1  i32.add  local.set $t
        local.get $byte  i32.const 2  i32.shl  local.get $histograms  i32.add  local.set $address
        local.get $address  local.get $address  i32.load offset={{histogram(0)}}
        i32.const 1  i32.add  i32.store offset={{histogram(0)}}
        local.get $i  i32.const 1  i32.add  local.set $i
      end
      br 0
    end end
    local.get $t)

  ;; emit(tokens, count, codes, out, bits, bitCount, state) -> end of output. Writes the Huffman
  ;; code of each 16-bit token from `codes` (one 32-bit entry per token value: the code's bits,
  ;; least significant first as deflate sends them, in the low 24 bits and its length above),
  ;; through a 64-bit bit buffer that starts with `bitCount` pending bits in `bits` and is written
  ;; out 32 bits at a time. The bits still pending are left at `state` and `state + 4`.
  (func (export "emit")
    (param $tokens i32) (param $count i32) (param $codes i32) (param $out i32) (param $bits i32)
    (param $bitCount i32) (param $state i32)
    (result i32)
    (local $end i32) (local $entry i32)
    (local $buffer i64)
    local.get $bits  i64.extend_i32_u  local.set $buffer
    local.get $tokens  local.get $count  i32.const 1  i32.shl  i32.add  local.set $end
    block loop
      local.get $tokens  local.get $end  i32.lt_u  i32.eqz  br_if 1
      local.get $codes  local.get $tokens  i32.load16_u  i32.const 2  i32.shl  i32.add  i32.load
      local.set $entry
      local.get $buffer
      local.get $entry  i32.const 0xffffff  i32.and  i64.extend_i32_u
      local.get $bitCount  i64.extend_i32_u  i64.shl  i64.or  local.set $buffer
      local.get $bitCount  local.get $entry  i32.const 24  i32.shr_u  i32.add  local.set $bitCount
      ;; Without a branch: store the low 32 bits every time, keep them only when they are all
      ;; filled (entry = 32 or 0).
      local.get $out  local.get $buffer  i64.store32
      local.get $bitCount  i32.const 32  i32.and  local.set $entry
      local.get $out  local.get $entry  i32.const 3  i32.shr_u  i32.add  local.set $out
      local.get $buffer  local.get $entry  i64.extend_i32_u  i64.shr_u  local.set $buffer
      local.get $bitCount  local.get $entry  i32.sub  local.set $bitCount
      local.get $tokens  i32.const 2  i32.add  local.set $tokens
      br 0
    end end
    local.get $state  local.get $buffer  i32.wrap_i64  i32.store
    local.get $state  local.get $bitCount  i32.store offset=4
    local.get $out)
)
