package org.outlierlab.model.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SnapshotsTest {
  @Test
  void probeRowsAreTheFirstSequencesTokensInTokenIndexOrderFromEitherPrecision() {
    INDArray a = Nd4j.arange(3 * 4 * 5).castTo(DataType.FLOAT).reshape(3, 4, 5);
    for (INDArray x : new INDArray[] {a, a.castTo(DataType.DOUBLE)}) {
      float[][] rows = Snapshots.probeRows(x, 2);
      assertEquals(2 * 4, rows.length);
      for (int sequence = 0; sequence < 2; sequence++) {
        for (int position = 0; position < 4; position++) {
          float[] expected = new float[5];
          for (int j = 0; j < 5; j++) {
            expected[j] = a.getFloat(sequence, position, j);
          }
          assertArrayEquals(expected, rows[sequence * 4 + position], "token_index = sequence * T + position");
        }
      }
    }
    assertEquals(3 * 4, Snapshots.probeRows(a, 10).length, "a probe larger than the batch keeps the batch");
  }
}
