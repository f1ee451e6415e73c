/* Celsius to Fahrenheit (temperature.h). */
#include "core/temperature.h"

double temperature_rounded(double v, double per)
{
    double x = v * per;
    return (double)(long long)(x + (x >= 0 ? 0.5 : -0.5)) / per;
}

double temperature_fahrenheit(double celsius)
{
    return temperature_rounded(celsius * 9.0 / 5.0 + 32.0, 10);
}

double temperature_fahrenheit_delta(double celsius)
{
    return temperature_rounded(celsius * 9.0 / 5.0, 10);
}
