;; wmgym's own wasm kernels, run on the tfjs wasm backend's memory (imported, so tensors are read
;; and written in place). Source of agents/nn/kernels-wasm.ts (`npm run build:kernels` compiles
;; it with wabt; a test checks the embedded bytes are this file's). All offsets are in bytes;
;; every matrix is float32, row-major.
;;
;; The memory import line is rewritten by the build: shared (threaded tfjs build) or not.
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

  ;; C = Aᵀ·D for A `k` x `m` at `a`, D `k` x `n` at `d`, C `m` x `n` at `c` (a weight gradient
  ;; xᵀ·dy). Every element is accumulated over k in order, from 0, as c + a·d rounded to float32 at
  ;; each step: the same sequence of float32 operations XNNPACK's gemm performs, so the result is
  ;; bit-identical to XNNPACK's product of the transposed A with D. Row i of C is built 16 columns
  ;; at a time in four registers (then 4 at a time, then one), reading A's column i and D's rows.
  (func (export "atb")
    (param $a i32) (param $d i32) (param $c i32) (param $k i32) (param $m i32) (param $n i32)
    (local $i i32) (local $j i32) (local $b i32)
    (local $pa i32) (local $pd i32) (local $pc i32)
    (local $aStride i32) (local $dStride i32)
    (local $s v128) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $xf f32)
    (local.set $aStride (i32.shl (local.get $m) (i32.const 2)))
    (local.set $dStride (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $doneI
      (loop $rowsOfC
        (br_if $doneI (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $j (i32.const 0))
        ;; 16 columns at a time.
        (block $done16
          (loop $by16
            (br_if $done16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $n)))
            (local.set $x0 (v128.const f32x4 0 0 0 0))
            (local.set $x1 (v128.const f32x4 0 0 0 0))
            (local.set $x2 (v128.const f32x4 0 0 0 0))
            (local.set $x3 (v128.const f32x4 0 0 0 0))
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
            (local.set $x0 (v128.const f32x4 0 0 0 0))
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
            (local.set $xf (f32.const 0))
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
            (f32.store
              (i32.add (local.get $c)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j))
                  (i32.const 2)))
              (local.get $xf))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $by1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rowsOfC))))

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
