package org.outlierlab.model.graph;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Rotary position embedding, half-split convention: x·cos + rotate_half(x)·sin, base 10000. */
final class Rope {
  private final SameDiff sd;
  private final DataType dtype;
  private final int seqLen;
  private final int headSize;

  Rope(SameDiff sd, DataType dtype, int seqLen, int headSize) {
    this.sd = sd;
    this.dtype = dtype;
    this.seqLen = seqLen;
    this.headSize = headSize;
  }

  /** x [B, H, T, head size] with its positions rotated in. */
  SDVariable apply(SDVariable x) {
    int dh = headSize;
    int half = dh / 2;
    INDArray cos = Nd4j.create(dtype, seqLen, dh);
    INDArray sin = Nd4j.create(dtype, seqLen, dh);
    for (int t = 0; t < seqLen; t++) {
      for (int i = 0; i < half; i++) {
        double angle = t * Math.pow(10000.0, -2.0 * i / dh);
        cos.putScalar(t, i, Math.cos(angle));
        cos.putScalar(t, i + half, Math.cos(angle));
        sin.putScalar(t, i, Math.sin(angle));
        sin.putScalar(t, i + half, Math.sin(angle));
      }
    }
    INDArray rotateHalf = Nd4j.zeros(dtype, dh, dh); // [x1, x2] · R = [-x2, x1]
    for (int i = 0; i < half; i++) {
      rotateHalf.putScalar(i + half, i, -1.0);
      rotateHalf.putScalar(i, i + half, 1.0);
    }
    SDVariable rotated = sd.mmul(x.reshape(-1, dh), sd.constant(rotateHalf)).reshape(sd.shape(x));
    return x.mul(sd.constant(cos)).add(rotated.mul(sd.constant(sin)));
  }
}
