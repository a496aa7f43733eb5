;; The conjugate-gradient solver's inner loops as WebAssembly SIMD (two f64 lanes): the
;; symmetric stencil product, the two triangular sweeps of the incomplete Cholesky
;; preconditioner and the vector updates. They do exactly what the TypeScript kernels do
;; (`multiplySymmetricStencil` in laplacian.ts, the sweeps in preconditioners.ts, the loops of
;; `conjugateGradient` in krylov.ts), up to the order of the additions.
;;
;; This is a template: the build (scripts/build-kernels.ts) replaces each placeholder in double
;; braces with a number from stencil-layout.ts (see kernel-template.ts for the list) and
;; compiles the result with wabt. Every argument that names an array is its byte offset in the
;; imported memory.
;;
;; Grids are padded by STENCIL_RADIUS cells on every side, f64 per cell, `rowBytes` per grid
;; row. The kernels are unrolled for a 5x5 stencil: per grid line, the cells -2..+2 around a
;; column are read from the line's first cell (`$line`) as the pairs (-2, -1), (0, +1) and
;; the single +2, at the byte offsets cell(dx).

(module
  (import "env" "memory" (memory 1))

  ;; The symmetric product: per row {{UPPER_STENCIL_SIZE}} float32 coefficients (the centre
  ;; first, then the positions after it), `vector` scattered into the grid `values` and the
  ;; products gathered through the grid `sums` into `out`. Returns vector . out.
  (func (export "multiply")
    (param $rows i32) (param $padded i32) (param $upper i32) (param $vector i32)
    (param $out i32) (param $values i32) (param $sums i32) (param $rowBytes i32)
    (result f64)
    (local $row i32) (local $value i32) (local $sum i32) (local $coefficients i32)
    (local $line i32) (local $lineSum i32)
    (local $x f64) (local $scalar f64) (local $one f64) (local $energy f64)
    (local $xx v128) (local $acc v128) (local $pair v128)

    ;; Scatter the vector into `values`, zero the rows' sums.
    (local.set $row (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $row) (local.get $rows)))
        (f64.store
          (local.tee $value
            (i32.add (local.get $values)
              (i32.shl
                (i32.load (i32.add (local.get $padded) (i32.shl (local.get $row) (i32.const 2))))
                (i32.const 3))))
          (f64.load (i32.add (local.get $vector) (i32.shl (local.get $row) (i32.const 3)))))
        (f64.store
          (i32.add (i32.sub (local.get $value) (local.get $values)) (local.get $sums))
          (f64.const 0))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $next)))

    (local.set $row (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $row) (local.get $rows)))
        ;; value: the row's cell in `values`; sum: the same cell in `sums`.
        (local.set $value
          (i32.add (local.get $values)
            (i32.shl
              (i32.load (i32.add (local.get $padded) (i32.shl (local.get $row) (i32.const 2))))
              (i32.const 3))))
        (local.set $sum
          (i32.add (i32.sub (local.get $value) (local.get $values)) (local.get $sums)))
        (local.set $coefficients
          (i32.add (local.get $upper)
            (i32.mul (local.get $row) (i32.const {{UPPER_ROW_BYTES}}))))
        (local.set $xx (f64x2.splat (local.tee $x (f64.load (local.get $value)))))
        ;; The centre.
        (local.set $scalar
          (f64.mul
            (f64.promote_f32 (f32.load offset={{upper(0,0)}} (local.get $coefficients)))
            (local.get $x)))
        (local.set $acc (v128.const i64x2 0 0))

        ;; The row's own line from its cell: the pair (+1, +2).
        (local.set $line (local.get $value))
        (local.set $lineSum (local.get $sum))
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{upper(1,0)}} align=4 (local.get $coefficients))))
              (v128.load offset={{own(1)}} align=8 (local.get $line)))
            (local.get $acc)))
        (v128.store offset={{own(1)}} align=8 (local.get $lineSum)
          (f64x2.add
            (v128.load offset={{own(1)}} align=8 (local.get $lineSum))
            (f64x2.mul (local.get $pair) (local.get $xx))))

        ;; The next line (+1 row), from its first cell.
        (local.set $line
          (i32.sub (i32.add (local.get $value) (local.get $rowBytes)) (i32.const {{LINE_START}})))
        (local.set $lineSum
          (i32.sub (i32.add (local.get $sum) (local.get $rowBytes)) (i32.const {{LINE_START}})))
        ;; (-2, -1)
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{upper(-2,1)}} align=4 (local.get $coefficients))))
              (v128.load offset={{cell(-2)}} align=8 (local.get $line)))
            (local.get $acc)))
        (v128.store offset={{cell(-2)}} align=8 (local.get $lineSum)
          (f64x2.add
            (v128.load offset={{cell(-2)}} align=8 (local.get $lineSum))
            (f64x2.mul (local.get $pair) (local.get $xx))))
        ;; (0, +1)
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{upper(0,1)}} align=4 (local.get $coefficients))))
              (v128.load offset={{cell(0)}} align=8 (local.get $line)))
            (local.get $acc)))
        (v128.store offset={{cell(0)}} align=8 (local.get $lineSum)
          (f64x2.add
            (v128.load offset={{cell(0)}} align=8 (local.get $lineSum))
            (f64x2.mul (local.get $pair) (local.get $xx))))
        ;; +2
        (local.set $scalar
          (f64.add
            (f64.mul
              (local.tee $one
                (f64.promote_f32 (f32.load offset={{upper(2,1)}} (local.get $coefficients))))
              (f64.load offset={{cell(2)}} (local.get $line)))
            (local.get $scalar)))
        (f64.store offset={{cell(2)}} (local.get $lineSum)
          (f64.add
            (f64.load offset={{cell(2)}} (local.get $lineSum))
            (f64.mul (local.get $one) (local.get $x))))

        ;; The line after (+2 rows).
        (local.set $line (i32.add (local.get $line) (local.get $rowBytes)))
        (local.set $lineSum (i32.add (local.get $lineSum) (local.get $rowBytes)))
        ;; (-2, -1)
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{upper(-2,2)}} align=4 (local.get $coefficients))))
              (v128.load offset={{cell(-2)}} align=8 (local.get $line)))
            (local.get $acc)))
        (v128.store offset={{cell(-2)}} align=8 (local.get $lineSum)
          (f64x2.add
            (v128.load offset={{cell(-2)}} align=8 (local.get $lineSum))
            (f64x2.mul (local.get $pair) (local.get $xx))))
        ;; (0, +1)
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{upper(0,2)}} align=4 (local.get $coefficients))))
              (v128.load offset={{cell(0)}} align=8 (local.get $line)))
            (local.get $acc)))
        (v128.store offset={{cell(0)}} align=8 (local.get $lineSum)
          (f64x2.add
            (v128.load offset={{cell(0)}} align=8 (local.get $lineSum))
            (f64x2.mul (local.get $pair) (local.get $xx))))
        ;; +2
        (local.set $scalar
          (f64.add
            (f64.mul
              (local.tee $one
                (f64.promote_f32 (f32.load offset={{upper(2,2)}} (local.get $coefficients))))
              (f64.load offset={{cell(2)}} (local.get $line)))
            (local.get $scalar)))
        (f64.store offset={{cell(2)}} (local.get $lineSum)
          (f64.add
            (f64.load offset={{cell(2)}} (local.get $lineSum))
            (f64.mul (local.get $one) (local.get $x))))

        ;; sums[cell] += scalar + both lanes of acc
        (f64.store (local.get $sum)
          (f64.add
            (f64.load (local.get $sum))
            (f64.add
              (f64.add (local.get $scalar) (f64x2.extract_lane 0 (local.get $acc)))
              (f64x2.extract_lane 1 (local.get $acc)))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $next)))

    ;; Gather the sums into `out`; energy = vector . out.
    (local.set $energy (f64.const 0))
    (local.set $row (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $row) (local.get $rows)))
        (f64.store
          (i32.add (local.get $out) (i32.shl (local.get $row) (i32.const 3)))
          (local.tee $x
            (f64.load
              (i32.add (local.get $sums)
                (i32.shl
                  (i32.load (i32.add (local.get $padded) (i32.shl (local.get $row) (i32.const 2))))
                  (i32.const 3))))))
        (local.set $energy
          (f64.add
            (local.get $energy)
            (f64.mul
              (local.get $x)
              (f64.load (i32.add (local.get $vector) (i32.shl (local.get $row) (i32.const 3)))))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $next)))
    (local.get $energy))

  ;; Forward sweep, grid = L^-1 residual (unit lower L): per row {{LOWER_STENCIL_SIZE}} float32
  ;; coefficients, the lines -2 and -1, then the cells -2 and -1 of the row's own line.
  (func (export "forward")
    (param $rows i32) (param $padded i32) (param $lower i32) (param $residual i32)
    (param $grid i32) (param $rowBytes i32)
    (local $row i32) (local $value i32) (local $coefficients i32) (local $line i32)
    (local $scalar f64) (local $one f64)
    (local $acc v128) (local $pair v128)

    (local.set $row (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $row) (local.get $rows)))
        (local.set $value
          (i32.add (local.get $grid)
            (i32.shl
              (i32.load (i32.add (local.get $padded) (i32.shl (local.get $row) (i32.const 2))))
              (i32.const 3))))
        (local.set $coefficients
          (i32.add (local.get $lower)
            (i32.mul (local.get $row) (i32.const {{FACTOR_ROW_BYTES}}))))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $scalar (f64.const 0))
        ;; The first cell of the line two rows up.
        (local.set $line
          (i32.sub
            (i32.sub (local.get $value) (i32.shl (local.get $rowBytes) (i32.const 1)))
            (i32.const {{LINE_START}})))
        ;; Line -2: (-2, -1), (0, +1), +2.
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{lower(-2,-2)}} align=4 (local.get $coefficients))))
              (v128.load offset={{cell(-2)}} align=8 (local.get $line)))
            (local.get $acc)))
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{lower(0,-2)}} align=4 (local.get $coefficients))))
              (v128.load offset={{cell(0)}} align=8 (local.get $line)))
            (local.get $acc)))
        (local.set $scalar
          (f64.add
            (f64.mul
              (local.tee $one
                (f64.promote_f32 (f32.load offset={{lower(2,-2)}} (local.get $coefficients))))
              (f64.load offset={{cell(2)}} (local.get $line)))
            (local.get $scalar)))
        ;; Line -1.
        (local.set $line (i32.add (local.get $line) (local.get $rowBytes)))
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{lower(-2,-1)}} align=4 (local.get $coefficients))))
              (v128.load offset={{cell(-2)}} align=8 (local.get $line)))
            (local.get $acc)))
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{lower(0,-1)}} align=4 (local.get $coefficients))))
              (v128.load offset={{cell(0)}} align=8 (local.get $line)))
            (local.get $acc)))
        (local.set $scalar
          (f64.add
            (f64.mul
              (local.tee $one
                (f64.promote_f32 (f32.load offset={{lower(2,-1)}} (local.get $coefficients))))
              (f64.load offset={{cell(2)}} (local.get $line)))
            (local.get $scalar)))
        ;; The row's own line. Its cells -2 and -1 were stored by the rows just before: read
        ;; one at a time, since a two-lane load of two separate recent stores would stall.
        (local.set $line (i32.add (local.get $line) (local.get $rowBytes)))
        (f64.store (local.get $value)
          (f64.sub
            (f64.sub
              (f64.sub
                (f64.load (i32.add (local.get $residual) (i32.shl (local.get $row) (i32.const 3))))
                (f64.add
                  (f64.add (local.get $scalar) (f64x2.extract_lane 0 (local.get $acc)))
                  (f64x2.extract_lane 1 (local.get $acc))))
              (f64.mul
                (f64.promote_f32 (f32.load offset={{lower(-2,0)}} (local.get $coefficients)))
                (f64.load offset={{cell(-2)}} (local.get $line))))
            (f64.mul
              (f64.promote_f32 (f32.load offset={{lower(-1,0)}} (local.get $coefficients)))
              (f64.load offset={{cell(-1)}} (local.get $line)))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $next))))

  ;; Backward sweep, into = L^-T D^-1 forward (the grid `backward` holding it too): per row
  ;; {{LOWER_STENCIL_SIZE}} float32 coefficients of L^T, the cells +1 and +2 of the row's own
  ;; line, then the lines +1 and +2. Returns residual . into.
  (func (export "backward")
    (param $rows i32) (param $padded i32) (param $upper i32) (param $inverseDiagonal i32)
    (param $forward i32) (param $backward i32) (param $into i32) (param $residual i32)
    (param $rowBytes i32)
    (result f64)
    (local $row i32) (local $offset i32) (local $value i32) (local $coefficients i32)
    (local $line i32)
    (local $scalar f64) (local $one f64) (local $result f64) (local $product f64)
    (local $acc v128) (local $pair v128)

    (local.set $product (f64.const 0))
    (local.set $row (i32.sub (local.get $rows) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.lt_s (local.get $row) (i32.const 0)))
        ;; offset: the row's cell in either grid.
        (local.set $offset
          (i32.shl
            (i32.load (i32.add (local.get $padded) (i32.shl (local.get $row) (i32.const 2))))
            (i32.const 3)))
        (local.set $value (i32.add (local.get $backward) (local.get $offset)))
        (local.set $coefficients
          (i32.add (local.get $upper)
            (i32.mul (local.get $row) (i32.const {{FACTOR_ROW_BYTES}}))))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $scalar (f64.const 0))
        ;; Line +1: (-2, -1), (0, +1), +2.
        (local.set $line
          (i32.sub (i32.add (local.get $value) (local.get $rowBytes)) (i32.const {{LINE_START}})))
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{transposed(-2,1)}} align=4
                    (local.get $coefficients))))
              (v128.load offset={{cell(-2)}} align=8 (local.get $line)))
            (local.get $acc)))
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{transposed(0,1)}} align=4
                    (local.get $coefficients))))
              (v128.load offset={{cell(0)}} align=8 (local.get $line)))
            (local.get $acc)))
        (local.set $scalar
          (f64.add
            (f64.mul
              (local.tee $one
                (f64.promote_f32
                  (f32.load offset={{transposed(2,1)}} (local.get $coefficients))))
              (f64.load offset={{cell(2)}} (local.get $line)))
            (local.get $scalar)))
        ;; Line +2.
        (local.set $line (i32.add (local.get $line) (local.get $rowBytes)))
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{transposed(-2,2)}} align=4
                    (local.get $coefficients))))
              (v128.load offset={{cell(-2)}} align=8 (local.get $line)))
            (local.get $acc)))
        (local.set $acc
          (f64x2.add
            (f64x2.mul
              (local.tee $pair
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset={{transposed(0,2)}} align=4
                    (local.get $coefficients))))
              (v128.load offset={{cell(0)}} align=8 (local.get $line)))
            (local.get $acc)))
        (local.set $scalar
          (f64.add
            (f64.mul
              (local.tee $one
                (f64.promote_f32
                  (f32.load offset={{transposed(2,2)}} (local.get $coefficients))))
              (f64.load offset={{cell(2)}} (local.get $line)))
            (local.get $scalar)))
        ;; result = forward[cell] * inverseDiagonal[row] - the sums; the row's own cells +1
        ;; and +2, stored by the rows just before, one at a time (see the forward sweep).
        (local.set $result
          (f64.sub
            (f64.sub
              (f64.sub
                (f64.mul
                  (f64.load (i32.add (local.get $forward) (local.get $offset)))
                  (f64.load
                    (i32.add (local.get $inverseDiagonal)
                      (i32.shl (local.get $row) (i32.const 3)))))
                (f64.add
                  (f64.add (local.get $scalar) (f64x2.extract_lane 0 (local.get $acc)))
                  (f64x2.extract_lane 1 (local.get $acc))))
              (f64.mul
                (f64.promote_f32 (f32.load offset={{transposed(1,0)}} (local.get $coefficients)))
                (f64.load offset={{own(1)}} (local.get $value))))
            (f64.mul
              (f64.promote_f32 (f32.load offset={{transposed(2,0)}} (local.get $coefficients)))
              (f64.load offset={{own(2)}} (local.get $value)))))
        (f64.store (local.get $value) (local.get $result))
        (f64.store
          (i32.add (local.get $into) (i32.shl (local.get $row) (i32.const 3)))
          (local.get $result))
        (local.set $product
          (f64.add
            (local.get $product)
            (f64.mul
              (local.get $result)
              (f64.load
                (i32.add (local.get $residual) (i32.shl (local.get $row) (i32.const 3)))))))
        (local.set $row (i32.sub (local.get $row) (i32.const 1)))
        (br $next)))
    (local.get $product))

  ;; x += step p; r -= step q, over `bytes` bytes (a multiple of 16: the vectors' storage is
  ;; padded to whole pairs), two lanes at a time. Returns r . r.
  (func (export "updateSolution")
    (param $bytes i32) (param $x i32) (param $r i32) (param $p i32) (param $q i32)
    (param $step f64)
    (result f64)
    (local $offset i32) (local $steps v128) (local $value v128) (local $acc v128)

    (local.set $steps (f64x2.splat (local.get $step)))
    (local.set $acc (v128.const i64x2 0 0))
    (local.set $offset (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $offset) (local.get $bytes)))
        (v128.store align=8 (i32.add (local.get $x) (local.get $offset))
          (f64x2.add
            (v128.load align=8 (i32.add (local.get $x) (local.get $offset)))
            (f64x2.mul
              (v128.load align=8 (i32.add (local.get $p) (local.get $offset)))
              (local.get $steps))))
        (v128.store align=8 (i32.add (local.get $r) (local.get $offset))
          (local.tee $value
            (f64x2.sub
              (v128.load align=8 (i32.add (local.get $r) (local.get $offset)))
              (f64x2.mul
                (v128.load align=8 (i32.add (local.get $q) (local.get $offset)))
                (local.get $steps)))))
        (local.set $acc
          (f64x2.add (f64x2.mul (local.get $value) (local.get $value)) (local.get $acc)))
        (local.set $offset (i32.add (local.get $offset) (i32.const 16)))
        (br $next)))
    (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))

  ;; p = z + beta p, over `bytes` bytes (a multiple of 16), two lanes at a time.
  (func (export "updateDirection")
    (param $bytes i32) (param $p i32) (param $z i32) (param $beta f64)
    (local $offset i32) (local $betas v128)

    (local.set $betas (f64x2.splat (local.get $beta)))
    (local.set $offset (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $offset) (local.get $bytes)))
        (v128.store align=8 (i32.add (local.get $p) (local.get $offset))
          (f64x2.add
            (v128.load align=8 (i32.add (local.get $z) (local.get $offset)))
            (f64x2.mul
              (v128.load align=8 (i32.add (local.get $p) (local.get $offset)))
              (local.get $betas))))
        (local.set $offset (i32.add (local.get $offset) (i32.const 16)))
        (br $next))))
)
