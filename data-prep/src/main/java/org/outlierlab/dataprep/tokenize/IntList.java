package org.outlierlab.dataprep.tokenize;

import java.util.Arrays;

/** A growable list of primitive ints: token ids without boxing. */
public final class IntList {
  private int[] data;
  private int size;

  public IntList() {
    this(256);
  }

  public IntList(int capacity) {
    data = new int[Math.max(capacity, 4)];
  }

  public void add(int value) {
    if (size == data.length) {
      data = Arrays.copyOf(data, data.length * 2);
    }
    data[size++] = value;
  }

  public void addAll(int[] values) {
    ensureCapacity(size + values.length);
    System.arraycopy(values, 0, data, size, values.length);
    size += values.length;
  }

  public int get(int index) {
    if (index >= size) {
      throw new IndexOutOfBoundsException(index + " >= " + size);
    }
    return data[index];
  }

  public int size() {
    return size;
  }

  public void clear() {
    size = 0;
  }

  /** Removes the first {@code count} values, keeping the rest in order. */
  public void dropFirst(int count) {
    System.arraycopy(data, count, data, 0, size - count);
    size -= count;
  }

  public int[] toArray() {
    return Arrays.copyOf(data, size);
  }

  public int[] copyRange(int from, int to) {
    return Arrays.copyOfRange(data, from, to);
  }

  private void ensureCapacity(int capacity) {
    if (capacity > data.length) {
      data = Arrays.copyOf(data, Math.max(capacity, data.length * 2));
    }
  }
}
