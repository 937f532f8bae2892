package org.outlierlab.model.optim;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The element-wise passes a training step makes over every parameter: summing the batch parts' gradients, the
 * global norm, clipping, and the AdamW update. On float arrays in host memory, C-ordered and contiguous, each is
 * one SIMD loop ({@link FloatLoops}); otherwise, or without the JDK's vector module, ND4J ops give the same
 * result up to rounding.
 *
 * <p>Why: each pass does a few operations per element, so what it costs is memory traffic; as ND4J ops, every
 * step of it reads and writes whole arrays again, op after op, with libnd4j's scalar loops. For the 130M model the
 * AdamW update as ND4J ops (weight decay, the fused updater, the subtraction) took 0.5–1.0 s a step on two
 * threads, as one loop 0.1–0.25 s (docs/BENCHMARKS.md, train).
 */
public final class FusedOps {
  private static final FloatLoops LOOPS = Nd4j.getEnvironment().isCPU() ? FloatLoops.best() : null;

  private FusedOps() {}

  /** Whether the SIMD loops are in use: the JVM has the vector module and ND4J runs on the CPU. */
  public static boolean simd() {
    return LOOPS != null;
  }

  /** target ← (target + Σ others) / divisor. */
  public static void sumInto(INDArray target, List<INDArray> others, double divisor) {
    if (fast(target, others.toArray(INDArray[]::new))) {
      LOOPS.sumInto(buffer(target), others.stream().map(FusedOps::buffer).toArray(ByteBuffer[]::new),
          (float) divisor);
      return;
    }
    others.forEach(target::addi);
    target.divi(divisor);
  }

  /** Σ a² (the squared Frobenius norm). */
  public static double sumOfSquares(INDArray a) {
    if (fast(a)) {
      return LOOPS.sumOfSquares(buffer(a));
    }
    double norm = a.norm2Number().doubleValue();
    return norm * norm;
  }

  /** a ← a·factor. */
  public static void scale(INDArray a, double factor) {
    if (fast(a)) {
      LOOPS.scale(buffer(a), (float) factor);
      return;
    }
    a.muli(factor);
  }

  /**
   * One step of Adam with decoupled weight decay at 1-based step {@code t}, in place on p, m and v:
   * p ← p·(1 − lr·wd), m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr·m̂/(√v̂ + ε) with m̂ = m/(1−β1^t),
   * v̂ = v/(1−β2^t). May overwrite g.
   */
  static void adamW(INDArray p, INDArray g, INDArray m, INDArray v, double lr, double weightDecay, double beta1,
      double beta2, double eps, long t) {
    if (fast(p, g, m, v)) {
      LOOPS.adamW(buffer(p), buffer(g), buffer(m), buffer(v), (float) (1 - lr * weightDecay), (float) beta1,
          (float) beta2, (float) (lr / (1 - Math.pow(beta1, t))), (float) (1 / Math.sqrt(1 - Math.pow(beta2, t))),
          (float) eps);
      return;
    }
    if (weightDecay != 0) {
      p.muli(1 - lr * weightDecay);
    }
    p.subi(adamDirection(g, m, v, lr, beta1, beta2, eps, t));
  }

  /**
   * Adam's step lr·m̂/(√v̂ + ε) with ND4J's fused updater, updating m and v: returns {@code g}, overwritten with the
   * step. The updater adds ε to √v before the bias correction; passing ε·√(1−β2^t) gives PyTorch's m̂/(√v̂ + ε).
   */
  static INDArray adamDirection(INDArray g, INDArray m, INDArray v, double lr, double beta1, double beta2, double eps,
      long t) {
    double epsilon = eps * Math.sqrt(1 - Math.pow(beta2, t));
    Nd4j.exec(new AdamUpdater(g, v, m, lr, beta1, beta2, epsilon, Math.toIntExact(t - 1)));
    return g;
  }

  /** Whether the loops can take these arrays: float, C-ordered and contiguous, one shape, under 2 GB each. */
  private static boolean fast(INDArray first, INDArray... rest) {
    if (LOOPS == null || !fits(first)) {
      return false;
    }
    for (INDArray a : rest) {
      if (!fits(a) || !a.equalShapes(first)) {
        return false;
      }
    }
    return true;
  }

  private static boolean fits(INDArray a) {
    return a.dataType() == DataType.FLOAT && !a.isEmpty() && a.length() <= Integer.MAX_VALUE / Float.BYTES
        && hasCStrides(a);
  }

  /** Element i of the array is element offset + i of its buffer (sizes of 1 may have any stride). */
  private static boolean hasCStrides(INDArray a) {
    long[] shape = a.shape();
    long[] stride = a.stride();
    long expected = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] != 1 && stride[i] != expected) {
        return false;
      }
      expected *= shape[i];
    }
    return true;
  }

  /** The array's own elements in its off-heap buffer, in native byte order. */
  private static ByteBuffer buffer(INDArray a) {
    ByteBuffer all = a.data().asNio();
    int from = Math.toIntExact(a.offset() * Float.BYTES);
    return all.position(from).limit(from + (int) a.length() * Float.BYTES).slice().order(ByteOrder.nativeOrder());
  }
}
