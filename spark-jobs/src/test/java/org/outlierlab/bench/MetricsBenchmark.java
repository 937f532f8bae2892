package org.outlierlab.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.metrics.LayerStats;
import org.outlierlab.model.run.Snapshots;

/**
 * Writes one synthetic snapshot (N tokens × d, Gaussian with one planted outlier neuron) both as a run's
 * Parquet snapshot and as raw little-endian float32 for the numpy peer, then times the statistics in-process
 * (one thread, median of repeats) with and without the feature Gram. Prints one JSON object.
 * usage: MetricsBenchmark <dir> <tokens> <d> <repeats>
 */
public final class MetricsBenchmark {
  private MetricsBenchmark() {}

  public static void main(String[] a) throws Exception {
    Path dir = Path.of(a[0]);
    int n = Integer.parseInt(a[1]);
    int d = Integer.parseInt(a[2]);
    int repeats = Integer.parseInt(a[3]);
    float[][] rows = new float[n][d];
    Random r = new Random(0);
    try (DataOutputStream raw = new DataOutputStream(new FileOutputStream(dir.resolve("x.f32").toFile()))) {
      ByteBuffer buffer = ByteBuffer.allocate(4 * d).order(ByteOrder.LITTLE_ENDIAN);
      for (float[] row : rows) {
        buffer.clear();
        for (int j = 0; j < d; j++) {
          row[j] = (float) (r.nextGaussian() * (j == 7 ? 30 : 1));
          buffer.putFloat(row[j]);
        }
        raw.write(buffer.array());
      }
    }
    int t = 128;
    Snapshots.write("bench", 0, Map.of("resid_attn_in_0", Nd4j.create(rows).reshape(n / t, t, d).castTo(
        org.nd4j.linalg.api.buffer.DataType.FLOAT)), n / t, 1,
        new org.apache.hadoop.fs.Path(dir.resolve("wh/runs/bench/snapshots").toString()), new Configuration());
    ObjectMapper json = new ObjectMapper();
    ObjectNode out = json.createObjectNode();
    out.put("impl", "outlier-lab LayerStats (java " + System.getProperty("java.version") + ", 1 thread)");
    out.put("tokens", n);
    out.put("d", d);
    out.put("kernels", "Java loops, no BLAS; feature Gram: " + LayerStats.gramKernel());
    for (boolean gram : new boolean[] {false, true}) {
      double[] seconds = new double[repeats];
      Map<String, Double> metrics = null;
      for (int k = 0; k < repeats; k++) {
        long start = System.nanoTime();
        LayerStats s = new LayerStats(d, gram);
        for (float[] row : rows) {
          s.add(row);
        }
        metrics = s.metrics();
        seconds[k] = (System.nanoTime() - start) / 1e9;
      }
      Arrays.sort(seconds);
      String key = gram ? "with_gram" : "without_gram";
      out.put(key + "_rows_per_s", Math.round(n / seconds[repeats / 2]));
      out.put(key + "_kurtosis", metrics.get("kurtosis"));
    }
    System.out.println(json.writeValueAsString(out));
  }
}
