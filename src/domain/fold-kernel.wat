;; The inner loops of foldBlock (linalg.ts) over f64x2 lanes: the same operations in the
;; same order as its TypeScript loops, so both give the same bits. Lane 0 of a running
;; sum holds the even rows and lane 1 the odd ones, as the TypeScript's x0/x1 do; the
;; four-way sums keep two vectors (rows 4i, 4i+1 | 4i+2, 4i+3).
;;
;; Addresses are bytes into the imported memory, which holds the accumulator's block
;; and triangle (fold-kernel.ts). A column of the block is n values, n a multiple of 4.
;; Regenerate fold-kernel-bytes.ts after editing: npm run kernels.
(module
  (import "fold" "memory" (memory 1))

  ;; Σ a[i]² over n values (sumOfSquares).
  (func (export "squares") (param $a i32) (param $n i32) (result f64)
    (local $end i32) (local $x v128) (local $y v128) (local $s v128) (local $t v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $next
        (local.set $x (v128.load (local.get $a)))
        (local.set $y (v128.load offset=16 (local.get $a)))
        (local.set $s (f64x2.add (local.get $s) (f64x2.mul (local.get $x) (local.get $x))))
        (local.set $t (f64x2.add (local.get $t) (f64x2.mul (local.get $y) (local.get $y))))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (br_if $next (i32.lt_u (local.get $a) (local.get $end)))))
    (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s)))
      (f64.add (f64x2.extract_lane 0 (local.get $t)) (f64x2.extract_lane 1 (local.get $t)))))

  ;; Σ a[i]·b[i] over n values, one running sum from the first (cross): scalar, as its
  ;; order decides the last bits of every result after it.
  (func (export "cross") (param $a i32) (param $b i32) (param $n i32) (result f64)
    (local $end i32) (local $s f64)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (loop $next
      (local.set $s (f64.add (local.get $s) (f64.mul (f64.load (local.get $a)) (f64.load (local.get $b)))))
      (local.set $s (f64.add (local.get $s) (f64.mul (f64.load offset=8 (local.get $a)) (f64.load offset=8 (local.get $b)))))
      (local.set $s (f64.add (local.get $s) (f64.mul (f64.load offset=16 (local.get $a)) (f64.load offset=16 (local.get $b)))))
      (local.set $s (f64.add (local.get $s) (f64.mul (f64.load offset=24 (local.get $a)) (f64.load offset=24 (local.get $b)))))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (local.set $b (i32.add (local.get $b) (i32.const 32)))
      (br_if $next (i32.lt_u (local.get $a) (local.get $end))))
    (local.get $s))

  ;; Applies I - τ[v₀; a][v₀; a]ᵀ to [R at t; the column c], n values (reflectColumn),
  ;; and answers the sum of squares of the column it leaves (as squares sums it).
  (func (export "reflectColumn") (param $t i32) (param $v0 f64) (param $tau f64) (param $a i32) (param $c i32) (param $n i32) (result f64)
    (local $pa i32) (local $pc i32) (local $end i32) (local $s v128) (local $u v128) (local $f f64) (local $F v128)
    (local $value v128) (local $q v128) (local $r v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $pa (local.get $a))
    (local.set $pc (local.get $c))
    (loop $next
      (local.set $s (f64x2.add (local.get $s) (f64x2.mul (v128.load (local.get $pa)) (v128.load (local.get $pc)))))
      (local.set $u (f64x2.add (local.get $u) (f64x2.mul (v128.load offset=16 (local.get $pa)) (v128.load offset=16 (local.get $pc)))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
      (local.set $pc (i32.add (local.get $pc) (i32.const 32)))
      (br_if $next (i32.lt_u (local.get $pa) (local.get $end))))
    (local.set $f (f64.mul (local.get $tau)
      (f64.add (f64.mul (local.get $v0) (f64.load (local.get $t)))
        (f64.add
          (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s)))
          (f64.add (f64x2.extract_lane 0 (local.get $u)) (f64x2.extract_lane 1 (local.get $u)))))))
    (f64.store (local.get $t) (f64.sub (f64.load (local.get $t)) (f64.mul (local.get $f) (local.get $v0))))
    (local.set $F (f64x2.splat (local.get $f)))
    (loop $next
      (local.set $value (f64x2.sub (v128.load (local.get $c)) (f64x2.mul (local.get $F) (v128.load (local.get $a)))))
      (v128.store (local.get $c) (local.get $value))
      (local.set $q (f64x2.add (local.get $q) (f64x2.mul (local.get $value) (local.get $value))))
      (local.set $value (f64x2.sub (v128.load offset=16 (local.get $c)) (f64x2.mul (local.get $F) (v128.load offset=16 (local.get $a)))))
      (v128.store offset=16 (local.get $c) (local.get $value))
      (local.set $r (f64x2.add (local.get $r) (f64x2.mul (local.get $value) (local.get $value))))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (local.set $c (i32.add (local.get $c) (i32.const 32)))
      (br_if $next (i32.lt_u (local.get $a) (local.get $end))))
    (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $q)) (f64x2.extract_lane 1 (local.get $q)))
      (f64.add (f64x2.extract_lane 0 (local.get $r)) (f64x2.extract_lane 1 (local.get $r)))))

  ;; Reflectors k (vector [v₀; a]) and k+1 ([u₀; b], b one column after a) applied to
  ;; `count` later columns, the first at c, each `stride` bytes after the previous;
  ;; their entries in R start at t (row k) and tNext (row k+1). cross = bᵀa after Hₖ.
  ;; Software-pipelined: one pass updates a column and takes the dot products of the
  ;; next, so a and b are loaded once for both; each column's sums keep their order.
  ;; Answers the sum of squares of the first later column as left (as squares sums it).
  (func (export "reflectPair")
    (param $a i32) (param $stride i32) (param $c i32) (param $count i32) (param $n i32)
    (param $t i32) (param $tNext i32)
    (param $v0 f64) (param $tau f64) (param $u0 f64) (param $upsilon f64) (param $cross f64) (result f64)
    (local $first i32) (local $q v128) (local $r v128) (local $squares f64) (local $bytes i32) (local $pa i32) (local $pc i32) (local $end i32) (local $x v128) (local $y v128)
    (local $va v128) (local $vb v128) (local $value v128) (local $F v128) (local $G v128)
    (local $f f64) (local $g f64)
    (if (i32.le_s (local.get $count) (i32.const 0)) (then (return (f64.const 0))))
    (local.set $first (local.get $c))
    (local.set $bytes (i32.shl (local.get $n) (i32.const 3)))
    (local.set $end (i32.add (local.get $a) (local.get $bytes)))
    ;; The first column's dot products (b at pa + stride).
    (local.set $pa (local.get $a))
    (local.set $pc (local.get $c))
    (loop $dot
      (local.set $va (v128.load (local.get $pa)))
      (local.set $vb (v128.load (i32.add (local.get $pa) (local.get $stride))))
      (local.set $value (v128.load (local.get $pc)))
      (local.set $x (f64x2.add (local.get $x) (f64x2.mul (local.get $va) (local.get $value))))
      (local.set $y (f64x2.add (local.get $y) (f64x2.mul (local.get $vb) (local.get $value))))
      (local.set $va (v128.load offset=16 (local.get $pa)))
      (local.set $vb (v128.load offset=16 (i32.add (local.get $pa) (local.get $stride))))
      (local.set $value (v128.load offset=16 (local.get $pc)))
      (local.set $x (f64x2.add (local.get $x) (f64x2.mul (local.get $va) (local.get $value))))
      (local.set $y (f64x2.add (local.get $y) (f64x2.mul (local.get $vb) (local.get $value))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
      (local.set $pc (i32.add (local.get $pc) (i32.const 32)))
      (br_if $dot (i32.lt_u (local.get $pa) (local.get $end))))
    (loop $column
      ;; Hₖ first, then Hₖ₊₁ on what Hₖ left: vₖ₊₁ᵀ(c - f·vₖ) = vₖ₊₁ᵀc - f·cross.
      (local.set $f (f64.mul (local.get $tau)
        (f64.add (f64.mul (local.get $v0) (f64.load (local.get $t)))
          (f64.add (f64x2.extract_lane 0 (local.get $x)) (f64x2.extract_lane 1 (local.get $x))))))
      (f64.store (local.get $t) (f64.sub (f64.load (local.get $t)) (f64.mul (local.get $f) (local.get $v0))))
      (local.set $g (f64.mul (local.get $upsilon)
        (f64.sub
          (f64.add (f64.mul (local.get $u0) (f64.load (local.get $tNext)))
            (f64.add (f64x2.extract_lane 0 (local.get $y)) (f64x2.extract_lane 1 (local.get $y))))
          (f64.mul (local.get $f) (local.get $cross)))))
      (f64.store (local.get $tNext) (f64.sub (f64.load (local.get $tNext)) (f64.mul (local.get $g) (local.get $u0))))
      (local.set $F (f64x2.splat (local.get $f)))
      (local.set $G (f64x2.splat (local.get $g)))
      (local.set $pa (local.get $a))
      (local.set $pc (local.get $c))
      (local.set $count (i32.sub (local.get $count) (i32.const 1)))
      (if (i32.gt_s (local.get $count) (i32.const 0))
        (then
          ;; Column c updated while the sums of the next one (pc + stride) are taken.
          (local.set $x (v128.const f64x2 0 0))
          (local.set $y (v128.const f64x2 0 0))
          (local.set $q (v128.const f64x2 0 0))
          (local.set $r (v128.const f64x2 0 0))
          (loop $both
            (local.set $va (v128.load (local.get $pa)))
            (local.set $vb (v128.load (i32.add (local.get $pa) (local.get $stride))))
            (local.set $value
              (f64x2.sub (f64x2.sub (v128.load (local.get $pc)) (f64x2.mul (local.get $F) (local.get $va))) (f64x2.mul (local.get $G) (local.get $vb))))
            (v128.store (local.get $pc) (local.get $value))
            (local.set $q (f64x2.add (local.get $q) (f64x2.mul (local.get $value) (local.get $value))))
            (local.set $value (v128.load (i32.add (local.get $pc) (local.get $stride))))
            (local.set $x (f64x2.add (local.get $x) (f64x2.mul (local.get $va) (local.get $value))))
            (local.set $y (f64x2.add (local.get $y) (f64x2.mul (local.get $vb) (local.get $value))))
            (local.set $va (v128.load offset=16 (local.get $pa)))
            (local.set $vb (v128.load offset=16 (i32.add (local.get $pa) (local.get $stride))))
            (local.set $value
              (f64x2.sub (f64x2.sub (v128.load offset=16 (local.get $pc)) (f64x2.mul (local.get $F) (local.get $va))) (f64x2.mul (local.get $G) (local.get $vb))))
            (v128.store offset=16 (local.get $pc) (local.get $value))
            (local.set $r (f64x2.add (local.get $r) (f64x2.mul (local.get $value) (local.get $value))))
            (local.set $value (v128.load offset=16 (i32.add (local.get $pc) (local.get $stride))))
            (local.set $x (f64x2.add (local.get $x) (f64x2.mul (local.get $va) (local.get $value))))
            (local.set $y (f64x2.add (local.get $y) (f64x2.mul (local.get $vb) (local.get $value))))
            (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
            (local.set $pc (i32.add (local.get $pc) (i32.const 32)))
            (br_if $both (i32.lt_u (local.get $pa) (local.get $end))))
          (if (i32.eq (local.get $c) (local.get $first))
            (then (local.set $squares (call $total (local.get $q) (local.get $r)))))
          (local.set $c (i32.add (local.get $c) (local.get $stride)))
          (local.set $t (i32.add (local.get $t) (i32.const 8)))
          (local.set $tNext (i32.add (local.get $tNext) (i32.const 8)))
          (br $column))))
    ;; The last column: its update alone.
    (loop $update
      (local.set $va (v128.load (local.get $pa)))
      (local.set $vb (v128.load (i32.add (local.get $pa) (local.get $stride))))
      (local.set $value
        (f64x2.sub (f64x2.sub (v128.load (local.get $pc)) (f64x2.mul (local.get $F) (local.get $va))) (f64x2.mul (local.get $G) (local.get $vb))))
      (v128.store (local.get $pc) (local.get $value))
      (local.set $q (f64x2.add (local.get $q) (f64x2.mul (local.get $value) (local.get $value))))
      (local.set $va (v128.load offset=16 (local.get $pa)))
      (local.set $vb (v128.load offset=16 (i32.add (local.get $pa) (local.get $stride))))
      (local.set $value
        (f64x2.sub (f64x2.sub (v128.load offset=16 (local.get $pc)) (f64x2.mul (local.get $F) (local.get $va))) (f64x2.mul (local.get $G) (local.get $vb))))
      (v128.store offset=16 (local.get $pc) (local.get $value))
      (local.set $r (f64x2.add (local.get $r) (f64x2.mul (local.get $value) (local.get $value))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
      (local.set $pc (i32.add (local.get $pc) (i32.const 32)))
      (br_if $update (i32.lt_u (local.get $pa) (local.get $end))))
    (if (result f64) (i32.eq (local.get $c) (local.get $first))
      (then (call $total (local.get $q) (local.get $r)))
      (else (local.get $squares))))

  ;; (q₀ + q₁) + (r₀ + r₁): a four-way sum's total, as sumOfSquares adds its four.
  (func $total (param $q v128) (param $r v128) (result f64)
    (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $q)) (f64x2.extract_lane 1 (local.get $q)))
      (f64.add (f64x2.extract_lane 0 (local.get $r)) (f64x2.extract_lane 1 (local.get $r)))))

  ;; The reflector of the implicit ones column ([v₀; 1 … 1]) applied to `columns`
  ;; columns from a, `stride` bytes apart, their entries in R from t: each column's sum
  ;; over n values (four-way), then f subtracted from its first `rows` values.
  (func (export "centre")
    (param $a i32) (param $stride i32) (param $columns i32) (param $n i32) (param $rows i32)
    (param $t i32) (param $v0 f64) (param $tau f64)
    (local $p i32) (local $end i32) (local $s v128) (local $u v128) (local $f f64) (local $F v128)
    (if (i32.le_s (local.get $columns) (i32.const 0)) (then (return)))
    (loop $column
      (local.set $s (v128.const f64x2 0 0))
      (local.set $u (v128.const f64x2 0 0))
      (local.set $p (local.get $a))
      (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
      (loop $sum
        (local.set $s (f64x2.add (local.get $s) (v128.load (local.get $p))))
        (local.set $u (f64x2.add (local.get $u) (v128.load offset=16 (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br_if $sum (i32.lt_u (local.get $p) (local.get $end))))
      (local.set $f (f64.mul (local.get $tau)
        (f64.add (f64.mul (local.get $v0) (f64.load (local.get $t)))
          (f64.add
            (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s)))
            (f64.add (f64x2.extract_lane 0 (local.get $u)) (f64x2.extract_lane 1 (local.get $u)))))))
      (f64.store (local.get $t) (f64.sub (f64.load (local.get $t)) (f64.mul (local.get $f) (local.get $v0))))
      (local.set $F (f64x2.splat (local.get $f)))
      ;; Only the first `rows` values: the padding stays zero. Four at a time, then the rest.
      (local.set $p (local.get $a))
      (local.set $end (i32.add (local.get $a) (i32.shl (i32.and (local.get $rows) (i32.const -4)) (i32.const 3))))
      (block $quadsDone
        (br_if $quadsDone (i32.ge_u (local.get $p) (local.get $end)))
        (loop $subtract
          (v128.store (local.get $p) (f64x2.sub (v128.load (local.get $p)) (local.get $F)))
          (v128.store offset=16 (local.get $p) (f64x2.sub (v128.load offset=16 (local.get $p)) (local.get $F)))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (br_if $subtract (i32.lt_u (local.get $p) (local.get $end)))))
      (local.set $end (i32.add (local.get $a) (i32.shl (local.get $rows) (i32.const 3))))
      (block $restDone
        (br_if $restDone (i32.ge_u (local.get $p) (local.get $end)))
        (loop $rest
          (f64.store (local.get $p) (f64.sub (f64.load (local.get $p)) (local.get $f)))
          (local.set $p (i32.add (local.get $p) (i32.const 8)))
          (br_if $rest (i32.lt_u (local.get $p) (local.get $end)))))
      (local.set $t (i32.add (local.get $t) (i32.const 8)))
      (local.set $a (i32.add (local.get $a) (local.get $stride)))
      (local.set $columns (i32.sub (local.get $columns) (i32.const 1)))
      (br_if $column (i32.gt_s (local.get $columns) (i32.const 0))))))
