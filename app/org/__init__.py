"""The organisation registry: districts 县区, units 单位, branches 党支部 and members 党员."""
