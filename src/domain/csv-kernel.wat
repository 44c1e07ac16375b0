;; The common case of NumericCsvReader's row loop (csv.ts): lines of plain decimal
;; numbers, `[sign] digits [. digits]` separated by commas and ended by LF or CRLF.
;; Each value is computed with the same operations in the same order as the
;; TypeScript loop (digits two at a time, one multiply-add per pair, then one division
;; by an exact power of ten), so both give the same bits. Any line it does not take
;; whole (spaces, quotes, an exponent, an empty value or line, the wrong number of
;; values, 18 or more significant digits, more than 22 decimals) is left to the
;; TypeScript loop, which reads it or names what is wrong with it.
;;
;; Memory (csv-kernel.ts): the 23 exact powers of ten 1e0..1e22 at byte 0, then the
;; rows out (f64, column after column: value j of row r at j·max + r), then the bytes
;; in. Every line read ends with a LF, the sentinel that stops each scan, so no read
;; goes past the bytes given.
;; Regenerate csv-kernel-bytes.ts after editing: npm run kernels.
(module
  (memory (export "memory") 1)

  ;; Where the last call stopped: the start of the first line not read.
  (global $stopped (export "stopped") (mut i32) (i32.const 0))

  ;; Reads the digits from $p on into $mantissa, two at a time (one multiply-add per
  ;; pair, one for a last single digit); answers where they end and the mantissa.
  (func $digitRun (param $p i32) (param $mantissa f64) (result i32 f64)
    (local $c i32) (local $next i32)
    (block $end
      (loop $pair
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (br_if $end (i32.gt_u (local.get $c) (i32.const 9)))
        (local.set $next (i32.sub (i32.load8_u offset=1 (local.get $p)) (i32.const 48)))
        (if (i32.gt_u (local.get $next) (i32.const 9))
          (then
            (local.set $mantissa (f64.add (f64.mul (local.get $mantissa) (f64.const 10)) (f64.convert_i32_s (local.get $c))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $end)))
        (local.set $mantissa
          (f64.add (f64.mul (local.get $mantissa) (f64.const 100)) (f64.convert_i32_s (i32.add (i32.mul (local.get $c) (i32.const 10)) (local.get $next)))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $pair)))
    (local.get $p)
    (local.get $mantissa))

  ;; Reads whole lines of `width` values from byte $p up to $end (just after a LF) into
  ;; $out, column after column, at most $max rows; answers the rows read and leaves
  ;; `stopped` at the first byte not read.
  (func (export "rows") (param $p i32) (param $end i32) (param $width i32) (param $out i32) (param $max i32) (result i32)
    (local $rows i32) (local $line i32) (local $column i32) (local $at i32) (local $stride i32)
    (local $c i32) (local $negative i32) (local $digits i32) (local $fraction i32)
    (local $mantissa f64) (local $value f64)
    (local.set $stride (i32.shl (local.get $max) (i32.const 3)))
    (block $stop
      (loop $row
        (local.set $line (local.get $p))
        (br_if $stop (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $stop (i32.ge_u (local.get $rows) (local.get $max)))
        (local.set $at (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 3))))
        (local.set $column (i32.const 0))
        (loop $value
          ;; [sign]
          (local.set $c (i32.load8_u (local.get $p)))
          (local.set $negative (i32.eq (local.get $c) (i32.const 45)))
          (local.set $p (i32.add (local.get $p) (i32.or (local.get $negative) (i32.eq (local.get $c) (i32.const 43)))))
          (local.set $digits (local.get $p))
          ;; digits
          (call $digitRun (local.get $p) (f64.const 0))
          (local.set $mantissa)
          (local.set $p)
          (local.set $digits (i32.sub (local.get $p) (local.get $digits)))
          ;; [. digits]
          (local.set $fraction (local.get $p))
          (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 46))
            (then
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (local.set $fraction (local.get $p))
              (call $digitRun (local.get $p) (local.get $mantissa))
              (local.set $mantissa)
              (local.set $p)
              (local.set $digits (i32.add (local.get $digits) (i32.sub (local.get $p) (local.get $fraction))))))
          (local.set $fraction (i32.sub (local.get $p) (local.get $fraction)))
          ;; No digit, too many for an exact mantissa, or too many decimals: the TypeScript loop's.
          (br_if $stop (i32.eqz (local.get $digits)))
          (br_if $stop (i32.gt_u (local.get $fraction) (i32.const 22)))
          (br_if $stop (f64.ge (local.get $mantissa) (f64.const 1e17)))
          (local.set $value (f64.div (local.get $mantissa) (f64.load (i32.shl (local.get $fraction) (i32.const 3)))))
          (f64.store (local.get $at) (select (f64.neg (local.get $value)) (local.get $value) (local.get $negative)))
          (local.set $at (i32.add (local.get $at) (local.get $stride)))
          (local.set $column (i32.add (local.get $column) (i32.const 1)))
          ;; , then the next value; LF or CRLF after the last
          (local.set $c (i32.load8_u (local.get $p)))
          (if (i32.eq (local.get $c) (i32.const 44))
            (then
              (br_if $stop (i32.ge_u (local.get $column) (local.get $width)))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $value)))
          (br_if $stop (i32.ne (local.get $column) (local.get $width)))
          (if (i32.and (i32.eq (local.get $c) (i32.const 13)) (i32.eq (i32.load8_u offset=1 (local.get $p)) (i32.const 10)))
            (then (local.set $p (i32.add (local.get $p) (i32.const 1)))
                  (local.set $c (i32.const 10))))
          (br_if $stop (i32.ne (local.get $c) (i32.const 10))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $rows (i32.add (local.get $rows) (i32.const 1)))
        (br $row)))
    (global.set $stopped (local.get $line))
    (local.get $rows)))
