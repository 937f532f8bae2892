package org.outlierlab.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ArrayCodecTest {
  @Test
  void everyShapeAndTypeRoundTripsExactly() {
    Map<String, INDArray> arrays = new LinkedHashMap<>();
    arrays.put("matrix", Nd4j.rand(DataType.FLOAT, 3, 4));
    arrays.put("view", Nd4j.rand(DataType.FLOAT, 5, 6).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3)));
    arrays.put("transposed", Nd4j.rand(DataType.DOUBLE, 3, 2).transpose());
    arrays.put("4d", Nd4j.rand(DataType.DOUBLE, 2, 3, 2, 2));
    arrays.put("vector", Nd4j.createFromArray(1.5f, -2f, Float.MIN_VALUE));
    arrays.put("scalar", Nd4j.scalar(DataType.FLOAT, 0.25f));
    arrays.put("step", Nd4j.scalar(DataType.LONG, 123456789012L));
    arrays.put("ints", Nd4j.createFromArray(new int[] {1, -2, 3}));
    Map<String, INDArray> back = ArrayCodec.decode(ArrayCodec.encode(arrays));
    assertEquals(List.copyOf(arrays.keySet()), List.copyOf(back.keySet()), "names, in order");
    arrays.forEach((name, a) -> {
      INDArray b = back.get(name);
      assertEquals(a.dataType(), b.dataType(), name);
      assertArrayEquals(a.shape(), b.shape(), name);
      assertEquals(a, b, name);
    });
  }
}
