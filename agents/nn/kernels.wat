;; wmgym's own wasm kernels, run on the tfjs wasm backend's memory (imported, so tensors are read
;; and written in place). Source of agents/nn/kernels-binary.ts (`npm run build:kernels` compiles
;; it with wabt; a test checks the embedded bytes are this file's). All offsets are in bytes;
;; every matrix is float32, row-major.
;;
;; The memory import line is rewritten by the build: shared (threaded tfjs build) or not.
;;
;; relu is max(x, 0) with NaN kept (as tf.relu): XNNPACK's x86 clamp turns a NaN into 0, so on a NaN
;; (and only there) the fused products here differ from XNNPACK's, on purpose: a NaN is not hidden.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; `batch` matrices of `rows` x `cols` at `src`, transposed into `dst` (`batch` x `cols` x `rows`).
  ;; Strips of 8 source rows: each pass reads 8 rows left to right and writes 8 contiguous values
  ;; per destination row, so both sides stay in cache.
  (func (export "transpose")
    (param $src i32) (param $dst i32) (param $batch i32) (param $rows i32) (param $cols i32)
    (local $b i32) (local $r0 i32) (local $r1 i32) (local $c i32) (local $r i32)
    (local $s i32) (local $d i32) (local $rowBytes i32) (local $matrixBytes i32)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $matrixBytes (i32.shl (i32.mul (local.get $rows) (local.get $cols)) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $doneBatch
      (loop $batchLoop
        (br_if $doneBatch (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $r0 (i32.const 0))
        (block $doneStrips
          (loop $strips
            (br_if $doneStrips (i32.ge_u (local.get $r0) (local.get $rows)))
            (local.set $r1 (i32.add (local.get $r0) (i32.const 8)))
            (if (i32.gt_u (local.get $r1) (local.get $rows))
              (then (local.set $r1 (local.get $rows))))
            (local.set $c (i32.const 0))
            (block $doneCols
              (loop $cols
                (br_if $doneCols (i32.ge_u (local.get $c) (local.get $cols)))
                ;; s = src + (r0 * cols + c) * 4; d = dst + (c * rows + r0) * 4
                (local.set $s (i32.add (local.get $src)
                  (i32.shl (i32.add (i32.mul (local.get $r0) (local.get $cols)) (local.get $c))
                    (i32.const 2))))
                (local.set $d (i32.add (local.get $dst)
                  (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r0))
                    (i32.const 2))))
                (local.set $r (local.get $r0))
                (block $doneRows
                  (loop $rowLoop
                    (br_if $doneRows (i32.ge_u (local.get $r) (local.get $r1)))
                    (f32.store (local.get $d) (f32.load (local.get $s)))
                    (local.set $s (i32.add (local.get $s) (local.get $rowBytes)))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (br $rowLoop)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cols)))
            (local.set $r0 (local.get $r1))
            (br $strips)))
        (local.set $src (i32.add (local.get $src) (local.get $matrixBytes)))
        (local.set $dst (i32.add (local.get $dst) (local.get $matrixBytes)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $batchLoop))))

  ;; C = A·B (+ bias) (then max(C, 0) when `relu` is non-zero) for rows `row0` to `row1` of C: A
  ;; `m` x `k` at `a`, B `k` x `n` at `b`, C `m` x `n` at `c`, all row-major, read as they are (no
  ;; packing); `bias` is a row of `n` values when `hasBias` is non-zero. Every element starts from
  ;; its bias (or 0) and is accumulated over k in order as c + a·b rounded to float32 at each step,
  ;; then clamped at 0 for relu: XNNPACK's gemm sequence, so the result is bit-identical to
  ;; XNNPACK's fused product. Blocks of 4 rows x 8 columns in 8 registers (B's two vectors, A's
  ;; values loaded splat); the rows and columns left over, one element at a time.
  (func (export "gemm")
    (param $a i32) (param $b i32) (param $c i32) (param $k i32) (param $n i32)
    (param $row0 i32) (param $row1 i32) (param $bias i32) (param $hasBias i32) (param $relu i32)
    (local $i i32) (local $j i32) (local $t i32) (local $jEnd i32)
    (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32) (local $pb i32) (local $pc i32)
    (local $kBytes i32) (local $nBytes i32)
    (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $x0a v128) (local $x0b v128) (local $x1a v128) (local $x1b v128) (local $x2a v128) (local $x2b v128) (local $x3a v128) (local $x3b v128)
    (local $xf f32)
    (local.set $kBytes (i32.shl (local.get $k) (i32.const 2)))
    (local.set $nBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (local.get $row0))
    (block $doneBlocks
      (loop $rowBlocks
        (br_if $doneBlocks (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $row1)))
        (local.set $j (i32.const 0))
        (block $doneCols
          (loop $colBlocks
            (br_if $doneCols (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
            (local.set $x0a (v128.const f32x4 0 0 0 0))
            (local.set $x0b (v128.const f32x4 0 0 0 0))
            (if (local.get $hasBias)
              (then
                (local.set $x0a
                  (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $x0b (v128.load offset=16
                  (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $x1a (local.get $x0a))
            (local.set $x1b (local.get $x0b))
            (local.set $x2a (local.get $x0a))
            (local.set $x2b (local.get $x0b))
            (local.set $x3a (local.get $x0a))
            (local.set $x3b (local.get $x0b))
            (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $kBytes))))
            (local.set $pa1 (i32.add (local.get $pa0) (local.get $kBytes)))
            (local.set $pa2 (i32.add (local.get $pa1) (local.get $kBytes)))
            (local.set $pa3 (i32.add (local.get $pa2) (local.get $kBytes)))
            (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $t (i32.const 0))
            (block $doneK
              (loop $terms
                (br_if $doneK (i32.ge_u (local.get $t) (local.get $k)))
                (local.set $b0 (v128.load (local.get $pb)))
                (local.set $b1 (v128.load offset=16 (local.get $pb)))
                (local.set $s (v128.load32_splat (local.get $pa0)))
                (local.set $x0a (f32x4.add (local.get $x0a) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $x0b (f32x4.add (local.get $x0b) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (v128.load32_splat (local.get $pa1)))
                (local.set $x1a (f32x4.add (local.get $x1a) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $x1b (f32x4.add (local.get $x1b) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (v128.load32_splat (local.get $pa2)))
                (local.set $x2a (f32x4.add (local.get $x2a) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $x2b (f32x4.add (local.get $x2b) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $s (v128.load32_splat (local.get $pa3)))
                (local.set $x3a (f32x4.add (local.get $x3a) (f32x4.mul (local.get $s) (local.get $b0))))
                (local.set $x3b (f32x4.add (local.get $x3b) (f32x4.mul (local.get $s) (local.get $b1))))
                (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                (local.set $pa1 (i32.add (local.get $pa1) (i32.const 4)))
                (local.set $pa2 (i32.add (local.get $pa2) (i32.const 4)))
                (local.set $pa3 (i32.add (local.get $pa3) (i32.const 4)))
                (local.set $pb (i32.add (local.get $pb) (local.get $nBytes)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $terms)))
            (if (local.get $relu)
              (then
                (local.set $x0a (f32x4.max (local.get $x0a) (v128.const f32x4 0 0 0 0)))
                (local.set $x0b (f32x4.max (local.get $x0b) (v128.const f32x4 0 0 0 0)))
                (local.set $x1a (f32x4.max (local.get $x1a) (v128.const f32x4 0 0 0 0)))
                (local.set $x1b (f32x4.max (local.get $x1b) (v128.const f32x4 0 0 0 0)))
                (local.set $x2a (f32x4.max (local.get $x2a) (v128.const f32x4 0 0 0 0)))
                (local.set $x2b (f32x4.max (local.get $x2b) (v128.const f32x4 0 0 0 0)))
                (local.set $x3a (f32x4.max (local.get $x3a) (v128.const f32x4 0 0 0 0)))
                (local.set $x3b (f32x4.max (local.get $x3b) (v128.const f32x4 0 0 0 0)))
              ))
            (local.set $pc (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
            (v128.store (local.get $pc) (local.get $x0a))
            (v128.store offset=16 (local.get $pc) (local.get $x0b))
            (v128.store (i32.add (local.get $pc) (local.get $nBytes)) (local.get $x1a))
            (v128.store offset=16 (i32.add (local.get $pc) (local.get $nBytes)) (local.get $x1b))
            (v128.store (i32.add (local.get $pc) (i32.mul (local.get $nBytes) (i32.const 2))) (local.get $x2a))
            (v128.store offset=16 (i32.add (local.get $pc) (i32.mul (local.get $nBytes) (i32.const 2))) (local.get $x2b))
            (v128.store (i32.add (local.get $pc) (i32.mul (local.get $nBytes) (i32.const 3))) (local.get $x3a))
            (v128.store offset=16 (i32.add (local.get $pc) (i32.mul (local.get $nBytes) (i32.const 3))) (local.get $x3b))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $colBlocks)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rowBlocks)))
    ;; Left over: columns j ≥ n − n mod 8 of the blocked rows, then whole rows i ≥ (their start).
    (local.set $jEnd (i32.and (local.get $n) (i32.const -8)))
    (local.set $t (local.get $row0))
    (block $doneLeft
      (loop $leftRows
        (br_if $doneLeft (i32.ge_u (local.get $t) (local.get $row1)))
        ;; rows of a 4-row block keep their blocked columns; rows after the blocks start at 0
        (local.set $j (select (local.get $jEnd) (i32.const 0) (i32.lt_u (local.get $t) (local.get $i))))
        (block $doneRow
          (loop $leftCols
            (br_if $doneRow (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $xf (f32.const 0))
            (if (local.get $hasBias)
              (then (local.set $xf
                (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $t) (local.get $kBytes))))
            (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $pc (i32.add (local.get $pa0) (local.get $kBytes)))
            (block $doneTerm
              (loop $term
                (br_if $doneTerm (i32.ge_u (local.get $pa0) (local.get $pc)))
                (local.set $xf (f32.add (local.get $xf)
                  (f32.mul (f32.load (local.get $pa0)) (f32.load (local.get $pb)))))
                (local.set $pa0 (i32.add (local.get $pa0) (i32.const 4)))
                (local.set $pb (i32.add (local.get $pb) (local.get $nBytes)))
                (br $term)))
            (if (local.get $relu)
              (then (local.set $xf (f32.max (local.get $xf) (f32.const 0)))))
            (f32.store
              (i32.add (local.get $c)
                (i32.shl (i32.add (i32.mul (local.get $t) (local.get $n)) (local.get $j)) (i32.const 2)))
              (local.get $xf))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $leftCols)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $leftRows))))

  ;; C = Aᵀ·D (+ bias) (then max(C, 0) when `relu` is non-zero) for A `k` x `m` at `a`, D `k` x `n`
  ;; at `d`, C `m` x `n` at `c`: a weight gradient xᵀ·dy, or a layer x·W + b with few inputs or
  ;; outputs. `biasMode` 0: no bias; 1: the bias is a row of `n` values at `bias` (added to every
  ;; row of C); 2: a column of `m` values at `bias` (one per row of C, for a product computed
  ;; transposed). Every element starts from its bias (or 0) and is accumulated over k in order, as
  ;; c + a·d rounded to float32 at each step, then clamped at 0 for relu: the same sequence of float32
  ;; operations XNNPACK's gemm performs (its accumulators start from the packed bias), so the
  ;; result is bit-identical to XNNPACK's fused product of the transposed A with D. Row i of C is
  ;; built 16 columns at a time in four registers (then 4 at a time, then one), reading A's column
  ;; i and D's rows.
  (func (export "atb")
    (param $a i32) (param $d i32) (param $c i32) (param $k i32) (param $m i32) (param $n i32)
    (param $bias i32) (param $biasMode i32) (param $relu i32)
    (local $i i32) (local $j i32) (local $b i32)
    (local $pa i32) (local $pd i32) (local $pc i32)
    (local $aStride i32) (local $dStride i32)
    (local $s v128) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $rowBias v128) (local $zero v128)
    (local $xf f32)
    (local.set $aStride (i32.shl (local.get $m) (i32.const 2)))
    (local.set $dStride (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $doneI
      (loop $rowsOfC
        (br_if $doneI (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $rowBias (v128.const f32x4 0 0 0 0))
        (if (i32.eq (local.get $biasMode) (i32.const 2))
          (then (local.set $rowBias (f32x4.splat
            (f32.load (i32.add (local.get $bias) (i32.shl (local.get $i) (i32.const 2))))))))
        (local.set $j (i32.const 0))
        ;; 16 columns at a time.
        (block $done16
          (loop $by16
            (br_if $done16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $n)))
            (local.set $x0 (local.get $rowBias))
            (local.set $x1 (local.get $rowBias))
            (local.set $x2 (local.get $rowBias))
            (local.set $x3 (local.get $rowBias))
            (if (i32.eq (local.get $biasMode) (i32.const 1))
              (then
                (local.set $pc (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $x0 (v128.load (local.get $pc)))
                (local.set $x1 (v128.load offset=16 (local.get $pc)))
                (local.set $x2 (v128.load offset=32 (local.get $pc)))
                (local.set $x3 (v128.load offset=48 (local.get $pc)))))
            (local.set $pa (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $pd (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $b (i32.const 0))
            (block $doneK16
              (loop $k16
                (br_if $doneK16 (i32.ge_u (local.get $b) (local.get $k)))
                (local.set $s (f32x4.splat (f32.load (local.get $pa))))
                (local.set $x0 (f32x4.add (local.get $x0)
                  (f32x4.mul (local.get $s) (v128.load (local.get $pd)))))
                (local.set $x1 (f32x4.add (local.get $x1)
                  (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $pd)))))
                (local.set $x2 (f32x4.add (local.get $x2)
                  (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $pd)))))
                (local.set $x3 (f32x4.add (local.get $x3)
                  (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $pd)))))
                (local.set $pa (i32.add (local.get $pa) (local.get $aStride)))
                (local.set $pd (i32.add (local.get $pd) (local.get $dStride)))
                (local.set $b (i32.add (local.get $b) (i32.const 1)))
                (br $k16)))
            (local.set $pc (i32.add (local.get $c)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j))
                (i32.const 2))))
            (if (local.get $relu)
              (then
                (local.set $x0 (f32x4.max (local.get $x0) (local.get $zero)))
                (local.set $x1 (f32x4.max (local.get $x1) (local.get $zero)))
                (local.set $x2 (f32x4.max (local.get $x2) (local.get $zero)))
                (local.set $x3 (f32x4.max (local.get $x3) (local.get $zero)))))
            (v128.store (local.get $pc) (local.get $x0))
            (v128.store offset=16 (local.get $pc) (local.get $x1))
            (v128.store offset=32 (local.get $pc) (local.get $x2))
            (v128.store offset=48 (local.get $pc) (local.get $x3))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $by16)))
        ;; 4 columns at a time.
        (block $done4
          (loop $by4
            (br_if $done4 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
            (local.set $x0 (local.get $rowBias))
            (if (i32.eq (local.get $biasMode) (i32.const 1))
              (then (local.set $x0
                (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $pa (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $pd (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $b (i32.const 0))
            (block $doneK4
              (loop $k4
                (br_if $doneK4 (i32.ge_u (local.get $b) (local.get $k)))
                (local.set $x0 (f32x4.add (local.get $x0)
                  (f32x4.mul (f32x4.splat (f32.load (local.get $pa))) (v128.load (local.get $pd)))))
                (local.set $pa (i32.add (local.get $pa) (local.get $aStride)))
                (local.set $pd (i32.add (local.get $pd) (local.get $dStride)))
                (local.set $b (i32.add (local.get $b) (i32.const 1)))
                (br $k4)))
            (if (local.get $relu)
              (then (local.set $x0 (f32x4.max (local.get $x0) (local.get $zero)))))
            (v128.store
              (i32.add (local.get $c)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j))
                  (i32.const 2)))
              (local.get $x0))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $by4)))
        ;; One column at a time.
        (block $done1
          (loop $by1
            (br_if $done1 (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $xf (f32x4.extract_lane 0 (local.get $rowBias)))
            (if (i32.eq (local.get $biasMode) (i32.const 1))
              (then (local.set $xf
                (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $pa (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $pd (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $b (i32.const 0))
            (block $doneK1
              (loop $k1
                (br_if $doneK1 (i32.ge_u (local.get $b) (local.get $k)))
                (local.set $xf (f32.add (local.get $xf)
                  (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pd)))))
                (local.set $pa (i32.add (local.get $pa) (local.get $aStride)))
                (local.set $pd (i32.add (local.get $pd) (local.get $dStride)))
                (local.set $b (i32.add (local.get $b) (i32.const 1)))
                (br $k1)))
            (if (local.get $relu)
              (then (local.set $xf (f32.max (local.get $xf) (f32.const 0)))))
            (f32.store
              (i32.add (local.get $c)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j))
                  (i32.const 2)))
              (local.get $xf))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $by1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rowsOfC))))

  ;; Sums over the middle axis of `outer` x `reduce` x `inner` float32 values at `src` into `outer` x
  ;; `inner` at `dst` (a bias gradient Σ_batch dz), in the order and with the roundings of the
  ;; JavaScript loop it replaces (agents/nn/backend.ts, `sumMiddleAxis`): four rows at a time,
  ;; ((r0 + r1) + (r2 + r3)) in float64, added to the float32 running sum in float64 and rounded
  ;; back to float32; then the remaining rows one by one, the same way. Two columns per f64x2.
  (func (export "colsum")
    (param $src i32) (param $dst i32) (param $outer i32) (param $reduce i32) (param $inner i32)
    (local $o i32) (local $r i32) (local $i i32) (local $p i32) (local $q i32) (local $rowBytes i32)
    (local $s v128)
    (local.set $rowBytes (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $o (i32.const 0))
    (block $doneOuter
      (loop $outerLoop
        (br_if $doneOuter (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $q (i32.add (local.get $dst) (i32.mul (local.get $o) (local.get $rowBytes))))
        (memory.fill (local.get $q) (i32.const 0) (local.get $rowBytes))
        (local.set $r (i32.const 0))
        (block $done4
          (loop $by4
            (br_if $done4 (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $reduce)))
            (local.set $p (i32.add (local.get $src)
              (i32.mul (i32.add (i32.mul (local.get $o) (local.get $reduce)) (local.get $r))
                (local.get $rowBytes))))
            (local.set $i (i32.const 0))
            (block $done2
              (loop $by2
                (br_if $done2 (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $inner)))
                (local.set $s (f64x2.add
                  (f64x2.add
                    (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))
                    (f64x2.promote_low_f32x4 (v128.load64_zero
                      (i32.add (local.get $p) (local.get $rowBytes)))))
                  (f64x2.add
                    (f64x2.promote_low_f32x4 (v128.load64_zero
                      (i32.add (local.get $p) (i32.shl (local.get $rowBytes) (i32.const 1)))))
                    (f64x2.promote_low_f32x4 (v128.load64_zero
                      (i32.add (local.get $p) (i32.mul (local.get $rowBytes) (i32.const 3))))))))
                (v128.store64_lane 0 (local.get $q)
                  (f32x4.demote_f64x2_zero (f64x2.add
                    (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $q)))
                    (local.get $s))))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (local.set $q (i32.add (local.get $q) (i32.const 8)))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $by2)))
            (if (i32.lt_u (local.get $i) (local.get $inner))
              (then
                (f32.store (local.get $q) (f32.demote_f64 (f64.add
                  (f64.promote_f32 (f32.load (local.get $q)))
                  (f64.add
                    (f64.add
                      (f64.promote_f32 (f32.load (local.get $p)))
                      (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $rowBytes)))))
                    (f64.add
                      (f64.promote_f32 (f32.load
                        (i32.add (local.get $p) (i32.shl (local.get $rowBytes) (i32.const 1)))))
                      (f64.promote_f32 (f32.load
                        (i32.add (local.get $p) (i32.mul (local.get $rowBytes) (i32.const 3))))))))))))
            (local.set $q (i32.add (local.get $dst) (i32.mul (local.get $o) (local.get $rowBytes))))
            (local.set $r (i32.add (local.get $r) (i32.const 4)))
            (br $by4)))
        (block $done1
          (loop $by1
            (br_if $done1 (i32.ge_u (local.get $r) (local.get $reduce)))
            (local.set $p (i32.add (local.get $src)
              (i32.mul (i32.add (i32.mul (local.get $o) (local.get $reduce)) (local.get $r))
                (local.get $rowBytes))))
            (local.set $i (i32.const 0))
            (block $doneRow
              (loop $row
                (br_if $doneRow (i32.ge_u (local.get $i) (local.get $inner)))
                (f32.store (local.get $q) (f32.demote_f64 (f64.add
                  (f64.promote_f32 (f32.load (local.get $q)))
                  (f64.promote_f32 (f32.load (local.get $p))))))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (local.set $q (i32.add (local.get $q) (i32.const 4)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $row)))
            (local.set $q (i32.add (local.get $dst) (i32.mul (local.get $o) (local.get $rowBytes))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $by1)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $outerLoop))))

  ;; dz = dy · step(y) over `n` float32 values (the gradient through a relu whose output is y), as
  ;; tfjs's `Step` then `Multiply` compute it: step is 1 where y > 0, NaN where y is NaN, else 0,
  ;; and the product is rounded as the Multiply kernel rounds it (so dy·0 stays a signed zero, or
  ;; NaN for an infinite dy).
  (func (export "reluGrad") (param $dy i32) (param $y i32) (param $out i32) (param $n i32)
    (local $i i32) (local $o i32) (local $yv v128) (local $yf f32) (local $s f32)
    (local.set $i (i32.const 0))
    (block $done4
      (loop $by4
        (br_if $done4 (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $yv (v128.load (i32.add (local.get $y) (local.get $o))))
        (v128.store (i32.add (local.get $out) (local.get $o))
          (f32x4.mul
            (v128.load (i32.add (local.get $dy) (local.get $o)))
            ;; NaN where y is NaN (y itself), else 1 where y > 0, else 0
            (v128.bitselect
              (local.get $yv)
              (v128.and
                (f32x4.gt (local.get $yv) (v128.const f32x4 0 0 0 0))
                (v128.const f32x4 1 1 1 1))
              (f32x4.ne (local.get $yv) (local.get $yv)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $by4)))
    (block $done1
      (loop $by1
        (br_if $done1 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $yf (f32.load (i32.add (local.get $y) (local.get $o))))
        (local.set $s (f32.const 0))
        (if (f32.gt (local.get $yf) (f32.const 0)) (then (local.set $s (f32.const 1))))
        (if (f32.ne (local.get $yf) (local.get $yf)) (then (local.set $s (local.get $yf))))
        (f32.store (i32.add (local.get $out) (local.get $o))
          (f32.mul (f32.load (i32.add (local.get $dy) (local.get $o))) (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $by1))))

  ;; One Adam step on `n` float32 values (p, m, v, g in; p', m', v' out; all distinct arrays), as
  ;; the tfjs ops of agents/nn/optimizer.ts compute it, one float32 rounding per op in this order:
  ;;   m' = m·β1 + g·(1 − β1);  v' = v·β2 + (g·g)·(1 − β2);
  ;;   p' = p − (m'·stepSize) / (√v'·denomScale + ε)
  ;; Every constant arrives as the float32 that tf.scalar would hold.
  (func (export "adam")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32)
    (param $pOut i32) (param $mOut i32) (param $vOut i32) (param $n i32)
    (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32)
    (param $denomScale f32) (param $stepSize f32) (param $eps f32)
    (local $i i32) (local $o i32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $gf f32) (local $mf f32) (local $vf f32)
    (local.set $i (i32.const 0))
    (block $done4
      (loop $by4
        (br_if $done4 (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $mv (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $o))) (f32x4.splat (local.get $b1)))
          (f32x4.mul (local.get $gv) (f32x4.splat (local.get $omb1)))))
        (local.set $vv (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $o))) (f32x4.splat (local.get $b2)))
          (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (f32x4.splat (local.get $omb2)))))
        (v128.store (i32.add (local.get $mOut) (local.get $o)) (local.get $mv))
        (v128.store (i32.add (local.get $vOut) (local.get $o)) (local.get $vv))
        (v128.store (i32.add (local.get $pOut) (local.get $o))
          (f32x4.sub
            (v128.load (i32.add (local.get $p) (local.get $o)))
            (f32x4.div
              (f32x4.mul (local.get $mv) (f32x4.splat (local.get $stepSize)))
              (f32x4.add
                (f32x4.mul (f32x4.sqrt (local.get $vv)) (f32x4.splat (local.get $denomScale)))
                (f32x4.splat (local.get $eps))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $by4)))
    (block $done1
      (loop $by1
        (br_if $done1 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gf (f32.load (i32.add (local.get $g) (local.get $o))))
        (local.set $mf (f32.add
          (f32.mul (f32.load (i32.add (local.get $m) (local.get $o))) (local.get $b1))
          (f32.mul (local.get $gf) (local.get $omb1))))
        (local.set $vf (f32.add
          (f32.mul (f32.load (i32.add (local.get $v) (local.get $o))) (local.get $b2))
          (f32.mul (f32.mul (local.get $gf) (local.get $gf)) (local.get $omb2))))
        (f32.store (i32.add (local.get $mOut) (local.get $o)) (local.get $mf))
        (f32.store (i32.add (local.get $vOut) (local.get $o)) (local.get $vf))
        (f32.store (i32.add (local.get $pOut) (local.get $o))
          (f32.sub
            (f32.load (i32.add (local.get $p) (local.get $o)))
            (f32.div
              (f32.mul (local.get $mf) (local.get $stepSize))
              (f32.add
                (f32.mul (f32.sqrt (local.get $vf)) (local.get $denomScale))
                (local.get $eps)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $by1))))
)
