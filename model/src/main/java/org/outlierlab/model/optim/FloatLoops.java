package org.outlierlab.model.optim;

import java.nio.ByteBuffer;

/**
 * The loops behind {@link FusedOps} on float arrays, each one pass over memory. Every buffer holds exactly the
 * array's elements (a slice of its off-heap data, native byte order), and the buffers of one call have equal
 * length.
 */
interface FloatLoops {
  /** target ← (target + Σ others) / divisor. */
  void sumInto(ByteBuffer target, ByteBuffer[] others, float divisor);

  /** Σ a², accumulated in float within blocks of a few hundred elements and in double across them. */
  double sumOfSquares(ByteBuffer a);

  /** a ← a·factor. */
  void scale(ByteBuffer a, float factor);

  /**
   * One AdamW step, as PyTorch's: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², then
   * p ← p·decay − stepSize·m / (√v·invSqrtBias2 + ε), where decay = 1 − lr·wd, stepSize = lr/(1−β1^t) and
   * invSqrtBias2 = 1/√(1−β2^t). g is left as it is.
   */
  void adamW(ByteBuffer p, ByteBuffer g, ByteBuffer m, ByteBuffer v, float decay, float beta1, float beta2,
      float stepSize, float invSqrtBias2, float eps);

  /**
   * The SIMD loops when the JVM runs with {@code --add-modules=jdk.incubator.vector} (bin/oflab and submit-command
   * pass it), else none: {@link FusedOps} then runs ND4J ops. Loaded by name, so that a JVM without the module
   * never links against it.
   */
  static FloatLoops best() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
      try {
        return (FloatLoops) Class.forName("org.outlierlab.model.optim.VectorFloatLoops").getDeclaredConstructor()
            .newInstance();
      } catch (ReflectiveOperationException | LinkageError e) {
        return null;
      }
    }
    return null;
  }
}
