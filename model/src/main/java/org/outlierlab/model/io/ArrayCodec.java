package org.outlierlab.model.io;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Named arrays as bytes, exactly: data type, shape, then the values in bulk, little-endian. What Spark ships between
 * the driver and its workers (parameters, optimiser state) and what a {@link org.outlierlab.model.run.Checkpoint}
 * holds. (ND4J's own {@code Nd4j.toByteArray} writes and reads element by element; for a round's state that cost more
 * than the Spark job itself.)
 */
public final class ArrayCodec {
  private ArrayCodec() {}

  public static Map<String, byte[]> encode(Map<String, INDArray> arrays) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    arrays.forEach((name, a) -> out.put(name, encode(a)));
    return out;
  }

  public static Map<String, INDArray> decode(Map<String, byte[]> bytes) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    bytes.forEach((name, b) -> out.put(name, decode(b)));
    return out;
  }

  /** Writes the arrays as a count, then each one's name, length in bytes and {@link #encode(INDArray) encoding}. */
  public static void write(Map<String, INDArray> arrays, DataOutput out) throws IOException {
    out.writeInt(arrays.size());
    for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
      byte[] bytes = encode(e.getValue());
      out.writeUTF(e.getKey());
      out.writeInt(bytes.length);
      out.write(bytes);
    }
  }

  /** Reads what {@link #write} wrote, in its order. */
  public static Map<String, INDArray> read(DataInput in) throws IOException {
    int count = in.readInt();
    if (count < 0) {
      throw new IOException("a negative count of arrays (" + count + ")");
    }
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      String name = in.readUTF();
      int length = in.readInt();
      if (length < 2) {
        throw new IOException("array " + name + " has a length of " + length + " bytes");
      }
      byte[] bytes = new byte[length];
      in.readFully(bytes);
      out.put(name, decode(bytes));
    }
    return out;
  }

  public static byte[] encode(INDArray a) {
    INDArray c = a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
    DataType type = c.dataType();
    long[] shape = c.shape();
    int header = 2 + 8 * shape.length;
    ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(header + c.length() * type.width())).order(ByteOrder.LITTLE_ENDIAN);
    out.put((byte) type.ordinal()).put((byte) shape.length);
    for (long s : shape) {
      out.putLong(s);
    }
    switch (type) {
      case FLOAT -> out.asFloatBuffer().put(c.data().asFloat());
      case DOUBLE -> out.asDoubleBuffer().put(c.data().asDouble());
      case LONG -> out.asLongBuffer().put(c.data().asLong());
      case INT -> out.asIntBuffer().put(c.data().asInt());
      default -> throw new IllegalArgumentException("cannot ship arrays of type " + type);
    }
    return out.array();
  }

  public static INDArray decode(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    DataType type = DataType.values()[in.get()];
    long[] shape = new long[in.get()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = in.getLong();
    }
    int n = Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact));
    ByteBuffer values = in.slice().order(ByteOrder.LITTLE_ENDIAN);
    return switch (type) {
      case FLOAT -> {
        float[] v = new float[n];
        values.asFloatBuffer().get(v);
        yield Nd4j.create(v, shape, 'c');
      }
      case DOUBLE -> {
        double[] v = new double[n];
        values.asDoubleBuffer().get(v);
        yield Nd4j.create(v, shape, 'c');
      }
      case LONG -> {
        long[] v = new long[n];
        values.asLongBuffer().get(v);
        yield Nd4j.createFromArray(v).reshape(shape);
      }
      case INT -> {
        int[] v = new int[n];
        values.asIntBuffer().get(v);
        yield Nd4j.createFromArray(v).reshape(shape);
      }
      default -> throw new IllegalArgumentException("cannot read arrays of type " + type);
    };
  }
}
