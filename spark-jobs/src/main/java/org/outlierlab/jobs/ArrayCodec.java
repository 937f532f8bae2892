package org.outlierlab.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Named arrays as bytes (ND4J's own format: shape, type and values, exactly) for Spark to ship. */
final class ArrayCodec {
  private ArrayCodec() {}

  static Map<String, byte[]> encode(Map<String, INDArray> arrays) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    arrays.forEach((name, a) -> {
      try {
        out.put(name, Nd4j.toByteArray(a.isView() ? a.dup('c') : a));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    return out;
  }

  static Map<String, INDArray> decode(Map<String, byte[]> bytes) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    bytes.forEach((name, b) -> out.put(name, Nd4j.fromByteArray(b)));
    return out;
  }
}
