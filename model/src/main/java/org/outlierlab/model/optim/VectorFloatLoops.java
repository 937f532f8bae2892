package org.outlierlab.model.optim;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** {@link FloatLoops} on the JDK's vector API: full vectors, then the tail element by element. */
final class VectorFloatLoops implements FloatLoops {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int LANES = SPECIES.length();
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  /** Elements summed in float per lane before the block's sum is added in double. */
  private static final int BLOCK = 64 * LANES;

  private static int length(ByteBuffer b) {
    return b.capacity() / Float.BYTES;
  }

  private static FloatVector load(ByteBuffer b, int i) {
    return FloatVector.fromByteBuffer(SPECIES, b, i * Float.BYTES, ORDER);
  }

  private static void store(FloatVector x, ByteBuffer b, int i) {
    x.intoByteBuffer(b, i * Float.BYTES, ORDER);
  }

  private static float get(ByteBuffer b, int i) {
    return b.getFloat(i * Float.BYTES);
  }

  private static void put(ByteBuffer b, int i, float x) {
    b.putFloat(i * Float.BYTES, x);
  }

  @Override
  public void sumInto(ByteBuffer target, ByteBuffer[] others, float divisor) {
    int n = length(target);
    int full = SPECIES.loopBound(n);
    int i = 0;
    for (; i < full; i += LANES) {
      FloatVector sum = load(target, i);
      for (ByteBuffer other : others) {
        sum = sum.add(load(other, i));
      }
      store(sum.div(divisor), target, i);
    }
    for (; i < n; i++) {
      float sum = get(target, i);
      for (ByteBuffer other : others) {
        sum += get(other, i);
      }
      put(target, i, sum / divisor);
    }
  }

  @Override
  public double sumOfSquares(ByteBuffer a) {
    int n = length(a);
    double total = 0;
    int i = 0;
    for (int blockEnd = BLOCK; blockEnd <= n; blockEnd += BLOCK) {
      FloatVector sum = FloatVector.zero(SPECIES);
      for (; i < blockEnd; i += LANES) {
        FloatVector x = load(a, i);
        sum = x.fma(x, sum);
      }
      total += sum.reduceLanes(VectorOperators.ADD);
    }
    for (; i < n; i++) {
      double x = get(a, i);
      total += x * x;
    }
    return total;
  }

  @Override
  public void scale(ByteBuffer a, float factor) {
    int n = length(a);
    int full = SPECIES.loopBound(n);
    int i = 0;
    for (; i < full; i += LANES) {
      store(load(a, i).mul(factor), a, i);
    }
    for (; i < n; i++) {
      put(a, i, get(a, i) * factor);
    }
  }

  @Override
  public void adamW(ByteBuffer p, ByteBuffer g, ByteBuffer m, ByteBuffer v, float decay, float beta1, float beta2,
      float stepSize, float invSqrtBias2, float eps) {
    int n = length(p);
    int full = SPECIES.loopBound(n);
    int i = 0;
    for (; i < full; i += LANES) {
      FloatVector gi = load(g, i);
      FloatVector mi = load(m, i).mul(beta1).add(gi.mul(1 - beta1));
      FloatVector vi = load(v, i).mul(beta2).add(gi.mul(gi).mul(1 - beta2));
      store(mi, m, i);
      store(vi, v, i);
      FloatVector denominator = vi.sqrt().mul(invSqrtBias2).add(eps);
      store(load(p, i).mul(decay).sub(mi.mul(stepSize).div(denominator)), p, i);
    }
    for (; i < n; i++) {
      float gi = get(g, i);
      float mi = beta1 * get(m, i) + (1 - beta1) * gi;
      float vi = beta2 * get(v, i) + gi * gi * (1 - beta2);
      put(m, i, mi);
      put(v, i, vi);
      put(p, i, get(p, i) * decay - stepSize * mi / ((float) Math.sqrt(vi) * invSqrtBias2 + eps));
    }
  }
}
